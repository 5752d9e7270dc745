"""Start, wait for and stop the two HTTP servers under test, on loopback only.

Each server runs in its own process group (``start_new_session``) so that stopping it also stops
the children it spawns: ``mlflow models serve`` execs ``uvicorn`` in a child shell.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

LOOPBACK = "127.0.0.1"
READY_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 15.0
POLL_INTERVAL_S = 0.25

ReadyCheck = Callable[[httpx.Response], bool]


class ServerError(RuntimeError):
    """A server did not start, died, or reported that it cannot serve."""


def venv_bin() -> Path:
    """The folder holding this interpreter, and with it ``candor``, ``mlflow`` and ``uvicorn``."""
    return Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def server_env(base: Mapping[str, str], *, home: Path, tracking_uri: str) -> dict[str, str]:
    """The environment for both servers: the bench's own store, and the venv first on PATH.

    ``mlflow models serve --env-manager local`` runs ``bash -c "exec uvicorn ..."``, which finds
    ``uvicorn`` on PATH only; without the venv's bin folder there it exits with code 127.
    """
    env = {k: v for k, v in base.items() if not k.startswith(("CANDOR_", "MLFLOW_"))}
    env.update(
        CANDOR_HOME=str(home),
        MLFLOW_TRACKING_URI=tracking_uri,
        MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false",
        PATH=os.pathsep.join([str(venv_bin()), env.get("PATH", "")]),
    )
    return env


@dataclass
class Server:
    """One server process; its output goes to ``log_path``."""

    name: str
    command: list[str]
    port: int
    ready_path: str
    is_ready: ReadyCheck
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, env: Mapping[str, str]) -> None:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return "(no output)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> float:
        """Poll the readiness URL until it answers as expected; seconds waited."""
        if self.process is None:
            raise ServerError(f"{self.name} was never started")
        started = time.perf_counter()
        deadline = started + timeout_s
        with httpx.Client(base_url=self.base_url, timeout=5.0) as client:
            while time.perf_counter() < deadline:
                if self.process.poll() is not None:
                    raise ServerError(
                        f"{self.name} exited with code {self.process.returncode} before it was "
                        f"ready; last output:\n{self.log_tail()}"
                    )
                try:
                    if self.is_ready(client.get(self.ready_path)):
                        return time.perf_counter() - started
                except httpx.TransportError:
                    pass  # not listening yet
                time.sleep(POLL_INTERVAL_S)
        raise ServerError(
            f"{self.name} not ready after {timeout_s:.0f} s; last output:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL it if it outlives ``STOP_TIMEOUT_S``."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT_S)
        if self._log is not None:
            self._log.close()
            self._log = None


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(pgid, sig)


def _candor_ready(response: httpx.Response) -> bool:
    if response.status_code != 200:
        return False
    body = response.json()
    if body.get("status") == "degraded":  # the model failed to load; waiting will not help
        raise ServerError(f"candor serve started without a model: {body.get('detail')}")
    return bool(body.get("status") == "ok")


def _status_ok(response: httpx.Response) -> bool:
    return response.status_code == 200


def candor_server(*, port: int, log_dir: Path) -> Server:
    return Server(
        name="candor serve",
        command=[str(venv_bin() / "candor"), "serve", "--host", LOOPBACK, "--port", str(port)],
        port=port,
        ready_path="/healthz",
        is_ready=_candor_ready,
        log_path=log_dir / "candor-serve.log",
    )


def mlflow_server(*, port: int, log_dir: Path, model_uri: str) -> Server:
    command = [str(venv_bin() / "mlflow"), "models", "serve", "-m", model_uri]
    command += ["--env-manager", "local", "--host", LOOPBACK, "--port", str(port)]
    return Server(
        name="mlflow models serve",
        command=command,
        port=port,
        ready_path="/ping",
        is_ready=_status_ok,
        log_path=log_dir / "mlflow-serve.log",
    )
