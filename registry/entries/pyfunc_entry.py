"""MLflow "models from code" entry point for the lead scorer.

MLflow copies this file into each logged model and runs it at load time; it is never imported
by Candor itself. Logging code instead of a pickled object means a registered model holds no
serialized Python objects, only this file, the scorer's plain artifacts and Candor's source
(``code/candor``, which MLflow has just put first on ``sys.path``).

That copy is for processes without Candor (a Spark worker, a fresh environment). A process that
already runs an installed Candor (the service, a notebook) keeps it: the copy is taken off
``sys.path`` before anything is imported, so that no Candor module is loaded twice or from two
places, and serving's ``isinstance`` check in ``unwrap`` sees its own class.
"""

import os
import sys

_CODE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "code")


def _runs_another_candor() -> bool:
    """True when a Candor module is already loaded from somewhere else than this copy."""
    files = [
        getattr(m, "__file__", None)
        for n, m in list(sys.modules.items())
        if n.startswith("candor.")
    ]
    return any(not os.path.abspath(f).startswith(_CODE + os.sep) for f in files if f)


if _runs_another_candor():
    sys.path[:] = [p for p in sys.path if os.path.abspath(p) != _CODE]

from mlflow.models import set_model  # noqa: E402

from candor.registry.lead_pyfunc import LeadScorerModel  # noqa: E402

set_model(LeadScorerModel())
