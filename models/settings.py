"""One settings object for the whole service, read from the environment (prefix ``CANDOR_``).

Nothing happens at import: no folder is made and no tracking URI is set until a command or the
app asks for :func:`get_settings` and acts on it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.policy import ScoringPolicy

LEAD_MODEL_NAME = "candor-lead-scorer"
CHAMPION_ALIAS = "champion"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CANDOR_", extra="ignore")

    home: Path = Field(default=Path(".candor"), description="runtime state: MLflow store, audit")
    mlflow_tracking_uri: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "CANDOR_MLFLOW_TRACKING_URI"),
        description="MLflow tracking URI; default: a SQLite store under home",
    )
    experiment: str = "candor-leads"
    lead_model_name: str = LEAD_MODEL_NAME
    model_alias: str = CHAMPION_ALIAS

    grade_cutoffs: tuple[float, float, float] = (0.6, 0.4, 0.2)
    high_confidence_width: float = 0.10
    medium_confidence_width: float = 0.20
    boundary_margin: float = 0.02
    max_missing_share: float = 0.30
    random_audit_share: float = 0.02

    default_top_k: int = 5
    max_leads_per_request: int = 1000
    max_body_bytes: int = 1_000_000

    @property
    def tracking_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{self.home.resolve() / 'mlflow.db'}"

    @property
    def artifact_root(self) -> Path:
        return self.home.resolve() / "mlartifacts"

    @property
    def policy(self) -> ScoringPolicy:
        return ScoringPolicy(
            grade_cutoffs=self.grade_cutoffs,
            high_confidence_width=self.high_confidence_width,
            medium_confidence_width=self.medium_confidence_width,
            boundary_margin=self.boundary_margin,
            max_missing_share=self.max_missing_share,
            random_audit_share=self.random_audit_share,
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
