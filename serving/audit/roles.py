"""The roles an API key can have (light: the CLI imports it at start-up).

- scorer: scores leads, forecasts, call plans;
- reviewer: reads records with their inputs, decides, records outcomes;
- auditor: reads that records exist, their integrity and who read them; never their inputs;
- admin: everything, keys, erasure.
"""

ROLES = ("scorer", "reviewer", "auditor", "admin")
