"""Monitoring maths: drift of inputs and scores, real-world accuracy (pure functions)."""
