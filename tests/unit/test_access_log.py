"""The access log never names a lead: a lead's id in a path is replaced before the line is
written (the audit log itself keeps only a keyed hash of it)."""

from __future__ import annotations

import logging

import pytest

from candor.serving.access_log import ACCESS_LOGGER, install_redaction, redact_path


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/v1/leads/L000123/scores", "/v1/leads/{lead_id}/scores"),
        (
            "/v1/leads/L000123/scores?limit=2&cursor=88",
            "/v1/leads/{lead_id}/scores?limit=2&cursor=88",
        ),
        ("/v1/leads/crm/42/changes?from=ab", "/v1/leads/{lead_id}/changes?from=ab"),
        ("/v1/leads/score", "/v1/leads/score"),
        ("/healthz", "/healthz"),
    ],
)
def test_a_lead_id_in_a_path_is_not_logged(path: str, logged: str) -> None:
    assert redact_path(path) == logged


def test_uvicorns_access_line_is_written_without_the_id(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    install_redaction()  # once per process, however many apps are built
    logger = logging.getLogger(ACCESS_LOGGER)
    assert sum(type(f).__name__ == "RedactLeadIds" for f in logger.filters) == 1
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5",
            "GET",
            "/v1/leads/Dr-Alvarez/scores",
            "1.1",
            200,
        )
    assert "Dr-Alvarez" not in caplog.text
    assert "/v1/leads/{lead_id}/scores" in caplog.text
