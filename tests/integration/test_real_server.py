"""`candor serve` as a real process on loopback: the command a deployment runs actually serves."""

from __future__ import annotations

from pathlib import Path

from api_support import DEMO_REQUEST, SCORE
from auth_support import bearer
from live_server import candor_serve, post_json

from candor.models.settings import Settings


def test_candor_serve_scores_the_demo_request(
    trained_home: Path, trained_settings: Settings, tmp_path: Path
) -> None:
    with candor_serve(home=trained_home, workdir=tmp_path) as server:
        body = post_json(
            server.base_url + SCORE, DEMO_REQUEST.read_bytes(), bearer(trained_settings)
        )
        assert body is not None, server.log_tail()
    result = body["results"][0]
    assert result["lead_id"] == "L900001"
    assert 0.0 <= result["score"] <= 1.0
    assert body["model"]["name"] == "candor-lead-scorer"
