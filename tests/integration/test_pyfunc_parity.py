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
    records = [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
    served = service.score(records, top_k=1)

    _, pyfunc = load_pyfunc(trained_settings, name=loaded.name, ref=loaded.version)
    registered = pyfunc.predict(frame)  # as read from the CSV: integer columns stay int64
    scored = np.array([r.suppressed is None for r in served])
    assert (registered["suppressed"].isna().to_numpy() == scored).all()
    assert registered["score"][~scored].isna().all()
    expected = np.array([r.score for r in served if r.score is not None])
    assert np.abs(expected - registered["score"].to_numpy()[scored]).max() < 1e-12
