"""MLflow "models from code" entry point for the lead scorer.

MLflow copies this file into each logged model and runs it at load time; it is never imported
by Candor itself. Logging code instead of a pickled object means a registered model holds no
serialized Python objects, only this file and the scorer's plain artifacts.
"""

from mlflow.models import set_model

from candor.registry.lead_pyfunc import LeadScorerModel

set_model(LeadScorerModel())
