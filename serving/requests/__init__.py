"""Request checks at the HTTP edge, one module per kind: every error names its field."""
