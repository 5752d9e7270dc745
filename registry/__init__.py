"""The only code that imports MLflow: pyfunc wrappers, the model loader, tracking, artifacts."""
