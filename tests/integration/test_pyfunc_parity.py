"""The HTTP service and the registered MLflow pyfunc give the same score for the same lead.

Venn-Abers calibration is a step function: a margin computed by another path (for example by
summing SHAP contributions) can differ by 1e-16 and land on the other side of a step.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from candor.models.settings import Settings
from candor.registry import LEADS, load_model
from candor.registry.loader import load_pyfunc
from candor.serving.services.leads import LeadScoringService


def test_service_scores_equal_the_registered_pyfunc(
    trained_settings: Settings, sample_frame: pd.DataFrame
) -> None:
    loaded = load_model(trained_settings, kind=LEADS)
    service = LeadScoringService(loaded, trained_settings.policy)
    frame = sample_frame.drop(columns=["converted"])
    frame = frame[~frame["do_not_contact"]].reset_index(drop=True)
    records = [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
    served = np.array([r.score for r in service.score(records, top_k=1)])

    _, pyfunc = load_pyfunc(trained_settings, name=loaded.name, ref=loaded.version)
    # the signature declares numbers as double; booleans stay booleans
    numeric = [
        c
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    typed = frame.astype(dict.fromkeys(numeric, "float64"))
    registered = pyfunc.predict(typed)["score"].to_numpy()
    assert np.abs(served - registered).max() < 1e-12
