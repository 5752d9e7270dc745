"""MLflow "models from code" entry point for the sales forecaster.

MLflow copies this file into each logged model and runs it at load time; it is never imported
by Candor itself. The forecaster travels as plain files (LightGBM text models, JSON, YAML and
an ``.npz`` of arrays read with ``allow_pickle=False``): nothing pickled.
"""

from mlflow.models import set_model

from candor.registry.forecast_pyfunc import SalesForecasterModel

set_model(SalesForecasterModel())
