"""One settings object for the whole service, read from the environment (prefix ``CANDOR_``).

Nothing happens at import: no folder is made and no tracking URI is set until a command or the
app asks for :func:`get_settings` and acts on it.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from candor.models.leads.input_limits import MAX_CATEGORY_LENGTH, MAX_LEAD_ID_LENGTH, InputLimits
from candor.models.policy import ForecastPolicy, ScoringPolicy, check_grade_shares

LEAD_MODEL_NAME = "candor-lead-scorer"
FORECAST_MODEL_NAME = "candor-sales-forecaster"
CHAMPION_ALIAS = "champion"

# the disparities a fairness audit computes per attribute, by the names settings use
FairnessMetric = Literal["disparate_impact", "equal_opportunity", "calibration", "coverage"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CANDOR_", env_nested_delimiter="__", extra="ignore"
    )

    home: Path = Field(default=Path(".candor"), description="runtime state: MLflow store, audit")
    mlflow_tracking_uri: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "CANDOR_MLFLOW_TRACKING_URI"),
        description="MLflow tracking URI; default: a SQLite store under home",
    )
    experiment: str = "candor-leads"
    lead_model_name: str = LEAD_MODEL_NAME
    model_alias: str = CHAMPION_ALIAS

    policy: ScoringPolicy = Field(
        default_factory=ScoringPolicy,
        description="grades, confidence and review thresholds, e.g. CANDOR_POLICY__GRADE_CUTOFFS",
    )
    grade_shares: tuple[float, float, float] = Field(
        default=(0.10, 0.30, 0.60),
        description="training chooses each model's grade cut-offs so that these top shares of "
        "its holdout are graded A, A or B, and A to C (CANDOR_GRADE_SHARES='[0.1, 0.3, 0.6]'); "
        "CANDOR_POLICY__GRADE_CUTOFFS fixes the cut-offs for every model instead",
    )

    forecast_experiment: str = "candor-forecast"
    forecast_model_name: str = FORECAST_MODEL_NAME
    forecast_policy: ForecastPolicy = Field(
        default_factory=ForecastPolicy,
        description="forecast review thresholds, e.g. CANDOR_FORECAST_POLICY__WIDE_INTERVAL_RATIO",
    )
    max_series_per_request: int = Field(
        default=200, ge=1, description="series in one POST /v1/forecasts"
    )

    database_url: str | None = Field(
        default=None, description="audit store URL (postgresql+psycopg://...); default SQLite"
    )
    audit_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key that pseudonymises lead ids; default: a key file under home",
    )
    audit_signing_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key (hex) that signs audit tree heads; default: a key file "
        "under home (mode 0600). Never in the database.",
    )
    audit_checkpoints: Path | None = Field(
        default=None,
        description="file the signed tree heads are appended to, outside the database; "
        "default: home/audit-checkpoints.log",
    )
    audit_write_timeout: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="seconds a request waits for the audit write lock before a 503",
    )
    audit_fast_start_events: int = Field(
        default=50_000,
        ge=0,
        description="a service whose last run verified more events than this starts from that "
        "run's verified key view (audit-checkpoints.keys.json) and re-verifies the whole log "
        "in the background; below it, the whole log is verified before serving",
    )

    model_owner: str = Field(
        default="Commercial analytics (set CANDOR_MODEL_OWNER)",
        description="who answers for the models; shown on every model card",
    )
    model_card_cache_seconds: float = Field(
        default=300.0,
        ge=0,
        description="seconds a public model card is served from memory, per champion version, "
        "before it is built from the registry again (a build takes ~100 ms); 0: every request",
    )
    model_card_rate_per_minute: float = Field(
        default=60.0, gt=0, description="model-card requests a client (IP) may make a minute"
    )
    model_card_burst: int = Field(
        default=20, ge=1, description="model-card requests a client may make at once (429 beyond)"
    )

    fairness_ratio_floor: float = Field(
        default=0.8,
        gt=0.0,
        le=1.0,
        description="lowest acceptable disparate-impact ratio (selection rates, lowest/highest)",
    )
    fairness_difference_ceiling: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="highest acceptable equal-opportunity difference (true-positive rates)",
    )
    fairness_gated: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="audit segments that also gate promotion (protected attributes always do), "
        "e.g. CANDOR_FAIRNESS_GATED=territory_type,region",
    )
    fairness_gate_rule: Literal["ci", "point"] = Field(
        default="ci",
        description="ci: block only when the whole 95% interval is beyond a threshold; "
        "point: block on the point estimate",
    )
    fairness_min_group_size: int = Field(
        default=30, ge=1, description="groups with fewer holdout leads are reported, not compared"
    )
    fairness_resamples: int = Field(
        default=1000, ge=0, description="bootstrap resamples for the fairness intervals"
    )
    fairness_gate_metrics: Annotated[tuple[FairnessMetric, ...], NoDecode] = Field(
        default=("calibration", "coverage"),
        min_length=1,
        description="the disparities that gate promotion, e.g. CANDOR_FAIRNESS_GATE_METRICS="
        "calibration,coverage,equal_opportunity; the others are computed, warned about and "
        "reported, not gated. The default holds a model to what it can meet when the groups' "
        "own conversion rates differ (training.fairness.thresholds)",
    )
    fairness_calibration_ceiling: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="highest acceptable calibration difference between groups (probability "
        "points: one group's observed-minus-predicted conversion rate minus another's)",
    )
    fairness_coverage_floor: float = Field(
        default=0.8,
        ge=0.0,
        le=1.0,
        description="lowest acceptable share of a group's score bins its interval covers",
    )
    fairness_proxy_threshold: float = Field(
        default=0.3,
        gt=0.0,
        le=1.0,
        description="a model input whose bias-corrected Cramer's V with a protected attribute "
        "reaches this is reported as a proxy of it (a warning, not a gate)",
    )

    retention_days: int | None = Field(
        default=None,
        ge=1,
        le=36_525,  # a century: beyond it the purge's cutoff leaves the calendar
        description="days a score's inputs and explanation are kept in the audit log; "
        "`candor privacy purge` removes older ones and keeps the verifiable record (unset: "
        "kept until the lead is erased)",
    )

    idempotency_ttl_hours: int = Field(
        default=24, ge=1, description="hours an Idempotency-Key's first answer is replayed"
    )

    drift_warn_psi: float = Field(
        default=0.1,
        gt=0.0,
        description="population stability index at which an input's (or the score's) drift "
        "is marked warn",
    )
    drift_alert_psi: float = Field(
        default=0.25,
        gt=0.0,
        description="population stability index at which drift is marked alert (and training "
        "refuses to promote automatically)",
    )
    drift_min_scores: int = Field(
        default=200,
        ge=1,
        description="fewest audited scores a drift window (or one segment of it) needs to be "
        "judged; below it the window is reported too small, never scored",
    )
    drift_max_scores: int = Field(
        default=200_000,
        ge=1,
        description="most audited scores one drift check reads: a window holding more is read "
        "as a uniform random sample of about this many (by score id, a random uuid), stated in "
        "the report",
    )
    performance_min_outcomes: int = Field(
        default=30,
        ge=1,
        description="fewest scores with a recorded outcome a performance window (or group) "
        "needs to be judged; below it the window is reported too small",
    )
    model_reload_seconds: float = Field(
        default=0.0,
        ge=0.0,
        description="seconds between checks of the registry for a new champion, picked up "
        "without a restart (0: only on POST /v1/models/reload)",
    )

    default_top_k: int = 5
    max_leads_per_request: int = 1000
    max_body_bytes: int = 1_000_000
    max_category_length: int = Field(
        default=MAX_CATEGORY_LENGTH,
        ge=1,
        description="longest categorical value accepted (422 beyond): a longer one is a mapping "
        "mistake, and would be stored",
    )
    max_lead_id_length: int = Field(default=MAX_LEAD_ID_LENGTH, ge=1)

    @property
    def input_limits(self) -> InputLimits:
        return InputLimits(self.max_category_length, self.max_lead_id_length)

    @field_validator("policy", mode="before")
    @classmethod
    def _decode_nested_lists(cls, value: Any) -> Any:
        """CANDOR_POLICY__GRADE_CUTOFFS='[0.7, 0.5, 0.3]' arrives as text: read it as JSON."""
        if isinstance(value, dict):
            return {
                k: json.loads(v) if isinstance(v, str) and v.lstrip().startswith("[") else v
                for k, v in value.items()
            }
        return value

    @field_validator("grade_shares")
    @classmethod
    def _check_grade_shares(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        return check_grade_shares(value)

    @model_validator(mode="after")
    def _check_drift_thresholds(self) -> Settings:
        """warn below alert: otherwise every drifted input would skip warn straight to alert."""
        if self.drift_alert_psi <= self.drift_warn_psi:
            raise ValueError(
                f"drift_alert_psi ({self.drift_alert_psi}) must be greater than drift_warn_psi "
                f"({self.drift_warn_psi})"
            )
        return self

    @field_validator("fairness_gated", "fairness_gate_metrics", mode="before")
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        """A comma-separated list or a JSON list, from the environment."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return tuple(json.loads(text))
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return value

    @property
    def tracking_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{self.home.resolve() / 'mlflow.db'}"

    @property
    def checkpoint_path(self) -> Path:
        """CANDOR_AUDIT_CHECKPOINTS, else home/audit-checkpoints.log for the default database;
        a database named by CANDOR_DATABASE_URL gets a file of its own beside it (named by a
        hash of the URL), so that two logs never share one file of checkpoints."""
        if self.audit_checkpoints is not None:
            return self.audit_checkpoints
        if self.database_url:
            tag = hashlib.sha256(self.database_url.encode()).hexdigest()[:12]
            return self.home.resolve() / f"audit-checkpoints-{tag}.log"
        return self.home.resolve() / "audit-checkpoints.log"

    @property
    def artifact_root(self) -> Path:
        return self.home.resolve() / "mlartifacts"


@lru_cache
def get_settings() -> Settings:
    return Settings()
