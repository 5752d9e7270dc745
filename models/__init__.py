"""Framework-free core of Candor: the data contract, features, model wrappers and policy."""

from pathlib import Path


def pyfunc_entry_path() -> Path:
    """The file MLflow runs to build the pyfunc model (see models/pyfunc_entry.py)."""
    return Path(__file__).with_name("pyfunc_entry.py")
