"""`candor serve` as a real process on loopback: the command a deployment runs actually serves."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from api_support import DEMO_REQUEST, SCORE
from auth_support import bearer

from models.settings import Settings

STARTUP_LIMIT_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def test_candor_serve_scores_the_demo_request(
    trained_home: Path, trained_settings: Settings, tmp_path: Path
) -> None:
    candor = Path(sys.executable).parent / "candor"
    assert candor.exists(), f"{candor} is missing; run `pip install -e .` in the venv"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"MLFLOW_TRACKING_URI", "CANDOR_MLFLOW_TRACKING_URI"}
    }
    env["CANDOR_HOME"] = str(trained_home)
    log_path = tmp_path / "serve.log"

    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(candor), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            health = None
            deadline = time.monotonic() + STARTUP_LIMIT_S
            while health is None and time.monotonic() < deadline:
                assert process.poll() is None, f"server exited:\n{log_path.read_text()[-3000:]}"
                health = get_json(f"{base}/healthz")
                if health is None:
                    time.sleep(0.25)
            assert health is not None, f"no /healthz answer:\n{log_path.read_text()[-3000:]}"
            assert health["status"] == "ok", health

            request = urllib.request.Request(
                base + SCORE,
                data=DEMO_REQUEST.read_bytes(),
                method="POST",
                headers={"Content-Type": "application/json", **bearer(trained_settings)},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200
                body = json.loads(response.read())
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    [result] = body["results"]
    assert result["lead_id"] == "L900001"
    assert 0.0 <= result["score"] <= 1.0
    assert body["model"]["version"] == health["model"]["version"]
