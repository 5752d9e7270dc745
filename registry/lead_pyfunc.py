"""The MLflow pyfunc wrapper of a :class:`LeadScorer`: signature, input example, unwrap.

A thin adapter, no maths here.
The scorer travels as plain files (LightGBM text model, JSON schema, Venn-Abers vectors, the
contract in YAML) so that a registered version can be read without unpickling code. Serving
unwraps it to call the NumPy fast path directly; ``mlflow models serve`` uses :meth:`predict`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.models.signature import ModelSignature
from mlflow.pyfunc import PyFuncModel
from mlflow.types.schema import ColSpec, Schema

from candor.models.contract import Contract, Kind, Role
from candor.models.leads.features import build_features
from candor.models.leads.scorer import LeadScorer
from candor.registry.artifact_model import ArtifactModel, unwrap

SCORER_ARTIFACT = "scorer"


class LeadScorerModel(ArtifactModel[LeadScorer]):
    """Raw lead columns in, calibrated probability and its Venn-Abers interval out."""

    ARTIFACT = SCORER_ARTIFACT
    read = staticmethod(LeadScorer.load)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        frame = pd.DataFrame(model_input)
        columns = {c: frame[c].tolist() for c in frame.columns}
        matrix = build_features(columns, schema=self.model.schema_, n_rows=len(frame))
        result = self.model.calibrate(self.model.margins(matrix.values))
        return pd.DataFrame({"score": result.score, "lower": result.lower, "upper": result.upper})


def _mlflow_type(contract: Contract, name: str) -> str:
    f = contract[name]
    if f.kind is Kind.NUMERIC:
        return "double"
    if f.kind is Kind.BOOLEAN or f.role is Role.CONSENT:
        return "boolean"
    return "string"


def signature_for(contract: Contract) -> ModelSignature:
    """Input schema from the contract (every request field, all optional); probability out."""
    inputs = Schema(
        [
            ColSpec(_mlflow_type(contract, f.name), f.name, required=False)
            for f in contract.request_fields
        ]
    )
    outputs = Schema(
        [ColSpec("double", "score"), ColSpec("double", "lower"), ColSpec("double", "upper")]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


def synthetic_input_example(scorer: LeadScorer) -> pd.DataFrame:
    """An input example built from the schema alone, so that no customer's lead is stored."""
    row: dict[str, Any] = {}
    for spec in scorer.schema_.specs:
        if spec.kind is Kind.CATEGORICAL:
            row[spec.name] = spec.categories[0] if spec.categories else None
        elif spec.kind is Kind.BOOLEAN:
            row[spec.name] = False
        else:
            row[spec.name] = spec.minimum
    if scorer.schema_.consent_field is not None:
        row[scorer.schema_.consent_field] = True
    return pd.DataFrame([row])


def unwrap_scorer(model: PyFuncModel) -> LeadScorer:
    """The scorer inside a loaded pyfunc model, for the NumPy fast path."""
    return unwrap(model, LeadScorerModel).model
