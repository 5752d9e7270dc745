"""The models-from-code files MLflow copies into each logged model and runs at load time.

They are run by path, never imported by Candor; each is a few lines so that what a registered
model executes is easy to audit.
"""

from pathlib import Path

LEAD_ENTRY = Path(__file__).with_name("pyfunc_entry.py")
FORECAST_ENTRY = Path(__file__).with_name("forecast_pyfunc_entry.py")
