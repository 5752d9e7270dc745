"""`candor serve` as a real process on loopback, for the tests that need one.

Started in its own process group so that a test can SIGKILL it (a crash) or stop it cleanly.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STARTUP_LIMIT_S = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str, headers: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The JSON of a 200 answer, or None when the server cannot be reached or refuses."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def post_json(url: str, body: bytes, headers: dict[str, str]) -> dict[str, Any] | None:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None
    except http.client.IncompleteRead:  # the server died mid-answer: nothing was received
        return None


@dataclass
class LiveServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no flush."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextmanager
def candor_serve(
    *, home: Path, workdir: Path, env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """Run `candor serve` with CANDOR_HOME=home (plus ``env``) until /healthz says ok."""
    candor = Path(sys.executable).parent / "candor"
    assert candor.exists(), f"{candor} is missing; install the project into this venv"
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CANDOR_", "MLFLOW_"))}
    clean.update(CANDOR_HOME=str(home), **(env or {}))
    log_path = workdir / f"serve-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(candor),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=clean,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)
        try:
            deadline = time.monotonic() + STARTUP_LIMIT_S
            while True:
                assert process.poll() is None, f"candor serve exited:\n{server.log_tail()}"
                health = get_json(server.base_url + "/healthz")
                if health is not None and health.get("status") == "ok":
                    break
                assert time.monotonic() < deadline, f"no healthy /healthz:\n{server.log_tail()}"
                time.sleep(0.25)
            yield server
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
