"""Training: read a CRM export, validate it against the contract, fit, evaluate, log to MLflow."""
