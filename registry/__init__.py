"""The only code that imports MLflow: pyfunc wrappers, the model loader, tracking, artifacts.

Every call goes through a client given the configured tracking URI (``registry.store``); the
loader returns one :class:`LoadedModel` for any kind of Candor model (``LEADS``, ``FORECAST``).
"""

from candor.registry.kinds import FORECAST, LEADS, ModelKind
from candor.registry.loader import LoadedModel, load_model

__all__ = ["FORECAST", "LEADS", "LoadedModel", "ModelKind", "load_model"]
