"""The audit store: every score, decision and outcome, hash-chained and append-only."""
