"""The MLflow pyfunc wrapper of a :class:`LeadScorer`: signature, input example, unwrap.

A thin adapter, no maths here.
The scorer travels as plain files (LightGBM text model, JSON schema, Venn-Abers vectors, the
contract in YAML) so that a registered version can be read without unpickling code. Serving
unwraps it to call the NumPy fast path directly. Everyone else who loads the registered model
(``mlflow.pyfunc.load_model``, ``mlflow models serve``, ``mlflow.pyfunc.spark_udf``) calls
:meth:`LeadScorerModel.predict`, which runs the same scoring core as the API and the batch
command (:func:`candor.serving.scoring.chunks.score_chunk`): leads no channel may reach are
suppressed, each result lists the ``channels`` a lead may be contacted on,
sensitive inputs are withheld without consent, rows that fail the contract's checks are
rejected one by one. It cannot write Candor's audit log, so every row says ``audited: false``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
from mlflow.models.signature import ModelSignature
from mlflow.pyfunc import PyFuncModel
from mlflow.types.schema import Array, ColSpec, Object, ParamSchema, ParamSpec, Property, Schema

from candor.models.contract import Kind
from candor.models.errors import ErrorDetail, InputValidationError, OptionError
from candor.models.leads.scorer import LeadScorer
from candor.models.model_ref import ModelRef
from candor.models.policy import ScoringPolicy
from candor.registry.artifact_model import CONFIG_NAME, CONFIG_RUN_ID, ArtifactModel, unwrap

if TYPE_CHECKING:
    from candor.serving.scoring.core import LeadBatchScorer

SCORER_ARTIFACT = "scorer"
EXPLAIN_CHOICES = ("none", "top", "all")  # as the API's ``explain``, plus no reasons at all
DEFAULT_TOP_K = 5  # the API's default (Settings.default_top_k)

_logger = logging.getLogger("candor.registry")
NOT_AUDITED_WARNING = (
    "Candor lead scorer loaded through MLflow (pyfunc.load_model, spark_udf or mlflow models "
    "serve): these scores are NOT audited; they are not in Candor's audit log and every row "
    "says audited=false. Use `candor score batch` or the HTTP API for audited scores."
)


@dataclass(frozen=True)
class PredictOptions:
    """The ``params`` of :meth:`LeadScorerModel.predict`, checked."""

    explain: bool
    top_k: int | None  # reasons per lead; None: every input

    @classmethod
    def of(cls, params: dict[str, Any] | None) -> PredictOptions:
        params = params or {}
        explain = str(params.get("explain", "none"))
        if explain not in EXPLAIN_CHOICES:
            raise OptionError(
                f"param 'explain' is {explain!r}; expected one of {', '.join(EXPLAIN_CHOICES)}",
                [ErrorDetail("explain", "unknown choice")],
            )
        top_k = int(params.get("top_k", DEFAULT_TOP_K))
        if top_k < 1:
            raise OptionError(
                f"param 'top_k' is {top_k}; expected a whole number of reasons, at least 1",
                [ErrorDetail("top_k", "below 1")],
            )
        return cls(explain != "none", top_k if explain == "top" else None)


class LeadScorerModel(ArtifactModel[LeadScorer]):
    """Raw lead columns in, one result row per lead out (``serving.scoring.table``)."""

    ARTIFACT = SCORER_ARTIFACT
    read = staticmethod(LeadScorer.load)
    core: LeadBatchScorer
    ref: ModelRef
    _warned = False

    def load_context(self, context: Any) -> None:
        super().load_context(context)
        # imported here, not at the top: the scoring core imports serving, which imports the
        # registry package; at load time the registry is complete
        from candor.serving.scoring.core import LeadBatchScorer

        self.core = LeadBatchScorer(self.model, ScoringPolicy())
        config = getattr(context, "model_config", None) or {}
        contract = self.model.contract_
        self.ref = ModelRef(
            name=str(config.get(CONFIG_NAME) or ""),
            version="",  # assigned when registered, after the files were written: null here
            run_id=str(config.get(CONFIG_RUN_ID) or ""),
            contract=contract.version_tag,
        )

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Score every row of ``model_input`` (columns named as the contract's fields).

        ``params``: ``explain`` ("none", default; "top": the ``top_k`` largest reasons, 5 by
        default; "all": every input) fills the ``reasons`` column. A row that fails the
        contract's checks comes back with ``rejected`` set and no score.

        Raises:
            InputValidationError: an unknown column (named) or no lead id column.
            OptionError: an unknown ``explain`` or a ``top_k`` below 1.

        Candor's errors, not ``MlflowException``: ``mlflow models serve`` prefixes the message
        of an ``MlflowException`` with the whole input frame, names and emails included.
        """
        from candor.serving.scoring.chunks import score_chunk
        from candor.serving.scoring.rows import FileColumns

        if not self._warned:
            _logger.warning(NOT_AUDITED_WARNING)
            self._warned = True
        options = PredictOptions.of(params)
        frame = pd.DataFrame(model_input)
        names = [str(c) for c in frame.columns]
        try:
            used = FileColumns.of(names, self.core.contract).used  # the target is left out
        except InputValidationError as exc:
            if names and all(n.isdigit() for n in names):  # spark_udf given unnamed columns
                raise InputValidationError(
                    f"{exc.message}. The columns arrived unnamed: pass them as one struct, "
                    "udf(pyspark.sql.functions.struct(*df.columns))",
                    exc.details,
                ) from exc
            raise
        frame.columns = pd.Index(names)
        data = arrow_table(frame[list(used)])
        chunk = score_chunk(
            self.core,
            data,
            score_ids=[uuid.uuid4().hex for _ in range(data.num_rows)],
            top_k=options.top_k,
            explain=options.explain,
            model=self.ref,
            audited=False,
            with_events=False,
        )
        table = chunk.table
        at = table.schema.get_field_index("model_version")
        table = table.set_column(at, "model_version", pa.nulls(table.num_rows, pa.string()))
        return result_frame(table)


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as Arrow columns, typed as pandas holds them (int64 stays int64).

    A column of mixed Python values that Arrow cannot type (JSON "12" beside 13) goes as text,
    so that the row checks reject the unreadable values one by one instead of the whole frame.
    """
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    arrays = {}
    for name in frame.columns:
        try:
            arrays[name] = pa.Array.from_pandas(frame[name])
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            values = frame[name].tolist()
            arrays[name] = pa.array([None if _missing(v) else str(v) for v in values], pa.string())
    return pa.table(arrays)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def result_frame(table: pa.Table) -> pd.DataFrame:
    """The result table as pandas: numbers as float64 (NaN where null), flags without a gap as
    bool, everything else as Python values (None where null; lists and dicts for the list and
    struct columns).

    One change to the table: ``reasons`` is an empty list, not null, for a lead that was not
    scored (its null ``score`` says so already). ``spark_udf`` cannot carry a null list of
    structs: MLflow's result conversion (``mlflow.pyfunc._convert_array_values``) iterates it.
    """
    columns: dict[str, Any] = {}
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_floating(field.type) or (
            pa.types.is_boolean(field.type) and column.null_count == 0
        ):
            columns[field.name] = column.to_numpy()
        elif pa.types.is_list(field.type) and pa.types.is_struct(field.type.value_type):
            columns[field.name] = pd.Series([v or [] for v in column.to_pylist()], dtype=object)
        else:
            columns[field.name] = pd.Series(column.to_pylist(), dtype=object)
    return pd.DataFrame(columns)


def _mlflow_type(kind: pa.DataType) -> Any:
    """The MLflow schema type of a result column's Arrow type."""
    if pa.types.is_string(kind):
        return "string"
    if pa.types.is_floating(kind):
        return "double"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_list(kind):
        return Array(_mlflow_type(kind.value_type))
    if pa.types.is_struct(kind):
        return Object([Property(f.name, _mlflow_type(f.type), required=False) for f in kind.fields])
    raise TypeError(f"no MLflow type for result column type {kind}")


def signature_for(scorer: LeadScorer) -> ModelSignature:
    """No input schema, the result columns out, and the explanation params.

    MLflow's schema enforcement would stand in front of the contract's own checks and answer
    differently: it refuses int64 for a ``double`` field (and float64, the type of an integer
    column with a gap, for a ``long`` one), fails the whole frame on one unreadable value, and
    drops unknown columns with a warning where the API refuses them by name. So the inputs are
    checked by :mod:`candor.serving.scoring.rows` as the API and the batch command check them,
    and the input example shows the fields. The output schema types every result column, so
    that ``spark_udf`` can infer its struct result.
    """
    from candor.serving.scoring.table import RESULT_SCHEMA

    outputs = Schema([ColSpec(_mlflow_type(f.type), f.name, required=False) for f in RESULT_SCHEMA])
    params = ParamSchema(
        [ParamSpec("explain", "string", "none"), ParamSpec("top_k", "long", DEFAULT_TOP_K)]
    )
    return ModelSignature(inputs=None, outputs=outputs, params=params)


def synthetic_input_example(scorer: LeadScorer) -> pd.DataFrame:
    """An input example built from the schema alone, so that no customer's lead is stored."""
    row: dict[str, Any] = {scorer.contract_.id_field.name: "example-lead"}
    for spec in scorer.schema_.specs:
        if spec.kind is Kind.CATEGORICAL:
            row[spec.name] = spec.categories[0] if spec.categories else None
        elif spec.kind is Kind.BOOLEAN:
            row[spec.name] = False
        else:
            row[spec.name] = spec.minimum
    if scorer.schema_.consent_field is not None:
        row[scorer.schema_.consent_field] = True
    for consent in scorer.contract_.channel_consents:  # reachable, so the example is scored
        row[consent.name] = True
    return pd.DataFrame([row])


def unwrap_scorer(model: PyFuncModel) -> LeadScorer:
    """The scorer inside a loaded pyfunc model, for the NumPy fast path."""
    return unwrap(model, LeadScorerModel).model
