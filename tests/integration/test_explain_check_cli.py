"""`candor explain check`: the champion's SHAP values by the TreeSHAP kernel equal LightGBM's
``pred_contrib`` on generated leads, as a field engineer would run it on their own model."""

from __future__ import annotations

import json

import pytest
import settings_support as support

from candor.cli.main import main as candor_main
from candor.models.settings import Settings, get_settings


def test_explain_check_reports_equal_contributions_and_both_rates(
    trained_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    support.no_tracking_server(monkeypatch)
    monkeypatch.setenv("CANDOR_HOME", str(trained_settings.home))
    get_settings.cache_clear()
    try:
        assert candor_main(["explain", "check", "--rows", "2000", "--json"]) == 0
    finally:
        get_settings.cache_clear()
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 2000
    assert report["max_abs_difference"] <= 1e-9
    assert report["kernel_rows_per_s"] > 0
    assert report["pred_contrib_rows_per_s"] > 0
    assert report["method"] == "tables"  # the sample model's tables fit: no fallback
    assert report["table_bytes"] > 0


def test_explain_check_exits_1_when_the_kernel_differs(
    trained_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from candor.models.tree_shap import TreeShap

    exact = TreeShap.contributions
    monkeypatch.setattr(TreeShap, "contributions", lambda self, x: exact(self, x) + 1e-6)
    support.no_tracking_server(monkeypatch)
    monkeypatch.setenv("CANDOR_HOME", str(trained_settings.home))
    get_settings.cache_clear()
    try:
        assert candor_main(["explain", "check", "--rows", "200"]) == 1
    finally:
        get_settings.cache_clear()
    captured = capsys.readouterr()
    assert "largest |kernel - pred_contrib|: 1e-06" in captured.out
    assert "differs from pred_contrib by 1e-06, more than 1e-09" in captured.err
