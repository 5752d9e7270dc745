"""The training gate's move of the champion is recorded in the audit log before the alias
moves; when it cannot be recorded the version is registered, not promoted, and its run still
says what the gate decided."""

from __future__ import annotations

from pathlib import Path

import settings_support as support

from candor.registry import versions
from candor.training.pipeline import train_leads


def test_an_unrecordable_move_leaves_the_version_unpromoted_and_its_gate_logged(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the audit database's folder should be")
    settings = support.make_settings(
        tmp_path / "home", database_url=f"sqlite:///{blocked / 'audit.db'}"
    )
    summary = train_leads(data=support.SAMPLE_LEADS, settings=settings, warn=lambda _: None)
    assert not summary.gate.promoted
    assert "NOT promoted: the move could not be recorded" in summary.gate.reason
    assert "candor models promote" in summary.gate.reason
    assert versions.champion_version(settings, settings.lead_model_name) is None
    [record] = versions.model_versions(settings, settings.lead_model_name)
    assert record.tags["gate.promoted"] == "False"
    assert "could not be recorded" in record.tags["gate.reason"]
