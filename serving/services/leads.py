"""Score a batch of validated leads: suppress, encode, predict, calibrate, explain, flag.

No HTTP and no DataFrame here: leads arrive as dicts, become columns, then one NumPy matrix
for the whole batch (PERFORMANCE.md: the DataFrame path costs ~18 ms per call).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from candor.explain.lead_explanations import explain_rows
from candor.models.leads.features import (
    FeatureMatrix,
    build_features,
    columns_from_records,
    out_of_range,
    parse_bool,
)
from candor.models.policy import ScoringPolicy, confidence_level, grade, review
from candor.serving.model_store import LoadedModel

CALIBRATION_METHOD = "inductive Venn-Abers"
# A suppressed lead still carries every key of a result, so clients read null, not KeyError.
_UNSCORED: dict[str, Any] = {
    "score": None,
    "grade": None,
    "margin": None,
    "base_value": None,
    "reasons": [],
    "confidence": None,
    "review": None,
    "withheld": [],
}


class LeadScoringService:
    """Everything needed to score leads with one loaded model; built once per model load."""

    def __init__(self, loaded: LoadedModel, policy: ScoringPolicy) -> None:
        self.loaded = loaded
        self.policy = policy
        self.scorer = loaded.scorer
        self.contract = loaded.scorer.contract_
        self.schema = loaded.scorer.schema_
        self.id_field = self.contract.id_field.name
        self.opt_out_fields = [f.name for f in self.contract.contact_opt_outs]
        self.coverage = (
            "one of the two bounds is a calibrated probability of conversion, valid when the "
            f"lead resembles the {self.scorer.calibration_.n_calibration} calibration leads "
            "(exchangeability)"
        )
        self.model_ref = {
            "name": loaded.name,
            "version": loaded.version,
            "run_id": loaded.run_id,
            "contract": self.contract.version_tag,
        }

    def _opted_out(self, lead: Mapping[str, Any]) -> bool:
        return any(parse_bool(lead.get(name)) is True for name in self.opt_out_fields)

    def _notes(
        self,
        row: int,
        columns: Mapping[str, Sequence[Any]],
        matrix: FeatureMatrix,
        outside: np.ndarray,
    ) -> list[str]:
        """Why a lead is out of distribution, in words a reviewer can check."""
        names, specs = self.schema.names, self.schema.specs
        notes = [
            f"{names[j]}: value {columns[names[j]][row]!r} was not seen in training"
            for j in np.flatnonzero(matrix.unseen[row])
        ]
        notes += [
            f"{names[j]}: {matrix.values[row, j]:g} is outside the training range "
            f"[{specs[j].minimum:g}, {specs[j].maximum:g}]"
            for j in np.flatnonzero(outside[row])
        ]
        return notes

    def score(self, leads: Sequence[Mapping[str, Any]], *, top_k: int | None) -> list[dict]:
        """One result per lead, in order. ``top_k=None`` explains every input."""
        results: list[dict[str, Any]] = [
            {"lead_id": str(lead[self.id_field]), "score_id": uuid.uuid4().hex, "suppressed": None}
            for lead in leads
        ]
        scored = [i for i, lead in enumerate(leads) if not self._opted_out(lead)]
        for i in set(range(len(leads))) - set(scored):
            results[i].update(suppressed="opted_out", **_UNSCORED)
        if not scored:
            return results
        batch = [leads[i] for i in scored]
        columns = columns_from_records(batch)
        matrix = build_features(columns, schema=self.schema, n_rows=len(batch))
        # margins from predict(), not from summed contributions: the two differ by ~1e-16, and
        # Venn-Abers is a step function, so the score must come from the very same path as the
        # MLflow pyfunc, the holdout metrics and the champion gate
        calibrated = self.scorer.calibrate(self.scorer.margins(matrix.values))
        contributions = self.scorer.contributions(matrix.values)
        explanations = explain_rows(
            contributions=contributions,
            matrix=matrix,
            columns=columns,
            schema=self.schema,
            contract=self.contract,
            top_k=top_k,
        )
        outside = out_of_range(matrix.values, self.schema)
        missing = np.isnan(matrix.values) & ~matrix.withheld & ~matrix.unseen
        n_inputs = max(len(self.schema.specs), 1)
        names = self.schema.names
        flagged = (matrix.unseen | outside).any(axis=1).tolist()
        missing_counts = missing.sum(axis=1).tolist()
        scores, lowers = calibrated.score.tolist(), calibrated.lower.tolist()
        uppers = calibrated.upper.tolist()
        withheld_rows = matrix.withheld.tolist()
        for row, i in enumerate(scored):
            result = results[i]
            score, lower, upper = scores[row], lowers[row], uppers[row]
            notes = self._notes(row, columns, matrix, outside) if flagged[row] else []
            if missing_counts[row] / n_inputs > self.policy.max_missing_share:
                notes.append(f"{missing_counts[row]} of {n_inputs} inputs are missing")
            flags = review(
                score=score,
                lower=lower,
                upper=upper,
                out_of_distribution=bool(notes),
                score_id=result["score_id"],
                policy=self.policy,
            )
            explanation = explanations[row]
            result.update(
                score=score,
                grade=grade(score, self.policy),
                margin=explanation.margin,
                base_value=explanation.base_value,
                reasons=[
                    {
                        "feature": r.feature,
                        "value": r.value,
                        "contribution": r.contribution,
                        "text": r.text,
                    }
                    for r in explanation.reasons
                ],
                confidence={
                    "level": str(confidence_level(lower, upper, self.policy)),
                    "interval": [lower, upper],
                    "method": CALIBRATION_METHOD,
                    "coverage": self.coverage,
                },
                review={"required": flags.required, "reasons": list(flags.reasons), "notes": notes},
                withheld=[names[j] for j, w in enumerate(withheld_rows[row]) if w],
            )
        return results
