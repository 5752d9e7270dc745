"""Synthetic sample data for Candor: generators and the committed sample files."""
