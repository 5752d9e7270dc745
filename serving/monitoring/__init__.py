"""Monitoring adapters: drift and real-world accuracy read from the audit log."""
