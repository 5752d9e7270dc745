"""A throwaway PostgreSQL server for the store tests, started and removed by the test run.

``throwaway_postgres()`` runs ``initdb`` in a fresh temporary folder, starts the server on a
free port of 127.0.0.1 (trust authentication, fsync off), creates the database ``candor_test``
and yields its SQLAlchemy URL (driver psycopg 3). On exit it stops the server
(``pg_ctl stop -m immediate``) and deletes the folder.

PostgreSQL refuses to run as root: as root the server binaries run as the ``postgres`` system
user (created by the Debian package) through ``runuser`` (or ``su``).

``PostgresUnavailable`` is raised, before anything is yielded, when this machine cannot run a
server (no server binaries, root without a ``postgres`` user): callers turn it into a skip.
A server that is there but fails to start raises ``PostgresStartError``: a real failure.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PostgresStartError", "PostgresUnavailable", "find_server_bin", "throwaway_postgres"]

DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
SERVER_USER = "postgres"  # the system user the Debian package creates; used when running as root
DB_USER = "candor"
DB_NAME = "candor_test"
INSTALL_HINT = "install the Debian package postgresql (bash scripts/install_system_deps.sh)"

INITDB_TIMEOUT_S = 120.0
START_TIMEOUT_S = 60  # pg_ctl -w -t
STOP_TIMEOUT_S = 30
COMMAND_TIMEOUT_S = 30.0
START_ATTEMPTS = 3  # a free port can be taken between choosing it and the server binding it


class PostgresUnavailable(RuntimeError):
    """This machine cannot run a throwaway PostgreSQL server; the message says why."""


class PostgresStartError(RuntimeError):
    """The server binaries are there but the throwaway server did not come up."""


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin: "15", "9.6", "17" compare as numbers
    return tuple(int(part) for part in re.findall(r"\d+", bin_dir.parent.name))


def find_server_bin() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``: the highest Debian version, else PATH."""
    debian = [
        path
        for path in map(Path, glob.glob(DEBIAN_BIN_GLOB))
        if _is_exe(path / "initdb") and _is_exe(path / "pg_ctl")
    ]
    if debian:
        return max(debian, key=_version_key)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    raise PostgresUnavailable(
        f"PostgreSQL server binaries (initdb, pg_ctl) not found under {DEBIAN_BIN_GLOB} "
        f"or on PATH: {INSTALL_HINT}"
    )


def _is_exe(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


@dataclass(frozen=True)
class _Runner:
    """Runs the server binaries: directly, or as the ``postgres`` user when we are root."""

    bin_dir: Path
    prefix: tuple[str, ...]  # e.g. ("runuser", "-u", "postgres", "--")
    via_su: bool
    uid: int
    gid: int

    def argv(self, program: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / program), *args]
        if self.via_su:
            return [*self.prefix, shlex.join(command)]
        return [*self.prefix, *command]

    def run(
        self, program: str, *args: str, cwd: Path, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        argv = self.argv(program, *args)
        try:
            return subprocess.run(
                argv,
                cwd=cwd,
                env=_clean_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            message = f"{shlex.join(argv)} did not finish in {timeout:.0f}s"
            raise PostgresStartError(message) from exc


def _make_runner(bin_dir: Path) -> _Runner:
    if os.geteuid() != 0:
        return _Runner(bin_dir, (), via_su=False, uid=os.getuid(), gid=os.getgid())
    try:
        user = pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, and PostgreSQL refuses to run as root, but there is no "
            f"{SERVER_USER!r} system user to run it as: {INSTALL_HINT}"
        ) from None
    if runuser := shutil.which("runuser"):
        prefix: tuple[str, ...] = (runuser, "-u", SERVER_USER, "--")
        via_su = False
    elif su := shutil.which("su"):
        prefix = (su, SERVER_USER, "-s", "/bin/sh", "-c")
        via_su = True
    else:
        raise PostgresUnavailable(
            f"running as root, and neither runuser nor su is available to run PostgreSQL "
            f"as the {SERVER_USER!r} user"
        )
    return _Runner(bin_dir, prefix, via_su=via_su, uid=user.pw_uid, gid=user.pw_gid)


def _clean_env() -> dict[str, str]:
    # PG* variables (PGDATA, PGPORT, PGHOST, PGOPTIONS...) of the caller must not leak in
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:])


def _explain(what: str, result: subprocess.CompletedProcess[str], log: Path | None) -> str:
    parts = [f"{what} failed (exit {result.returncode})"]
    parts += [result.stdout.strip(), result.stderr.strip()]
    if log is not None:
        parts.append(f"server log {log}:\n{_tail(log)}")
    return "\n".join(part for part in parts if part)


def _server_options(port: int, socket_dir: Path) -> str:
    options: Sequence[str] = (
        f"-p {port}",
        f"-k {shlex.quote(str(socket_dir))}",
        "-c listen_addresses=127.0.0.1",
        "-c fsync=off",
        "-c synchronous_commit=off",
        "-c full_page_writes=off",
    )
    return " ".join(options)


def _start(runner: _Runner, base: Path, data: Path, socket_dir: Path, log: Path) -> int:
    """Starts the server on a free port (a few tries: the port can be taken meanwhile)."""
    failure = ""
    for _ in range(START_ATTEMPTS):
        port = _free_port()
        result = runner.run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "-D",
            str(data),
            "-l",
            str(log),
            "-o",
            _server_options(port, socket_dir),
            cwd=base,
            timeout=START_TIMEOUT_S + 30,
        )
        if result.returncode == 0:
            return port
        failure = _explain("pg_ctl start", result, log)
        _stop(runner, base, data)  # a half-started server must not linger
        if "could not bind" not in _tail(log, 50) and "in use" not in _tail(log, 50):
            break
    raise PostgresStartError(failure)


def _stop(runner: _Runner, base: Path, data: Path) -> None:
    """Stops the server, bounded: pg_ctl stop -m immediate, then signals to the postmaster."""
    if not (data / "postmaster.pid").exists():
        return
    with contextlib.suppress(PostgresStartError):
        result = runner.run(
            "pg_ctl",
            "stop",
            "-m",
            "immediate",
            "-w",
            "-t",
            str(STOP_TIMEOUT_S),
            "-D",
            str(data),
            cwd=base,
            timeout=STOP_TIMEOUT_S + 10,
        )
        if result.returncode == 0:
            return
    _kill_postmaster(data)


def _kill_postmaster(data: Path) -> None:
    try:
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    for sig, wait_s in ((signal.SIGQUIT, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Starts a private PostgreSQL server; yields ``postgresql+psycopg://candor@127.0.0.1:PORT/
    candor_test``; stops it and deletes its data on exit.

    Raises ``PostgresUnavailable`` (before yielding) when no server can be run here, and
    ``PostgresStartError`` when the server binaries fail.
    """
    bin_dir = find_server_bin()
    runner = _make_runner(bin_dir)
    # under /tmp, not $TMPDIR: a Unix socket path must stay short (~100 bytes), and as root
    # $TMPDIR may sit in a folder the postgres user cannot traverse
    tmp_root = "/tmp" if Path("/tmp").is_dir() else None
    base = Path(tempfile.mkdtemp(prefix="candor-pg-", dir=tmp_root))
    data, socket_dir, log = base / "data", base / "sock", base / "server.log"
    started = False
    try:
        socket_dir.mkdir(mode=0o700)
        if os.geteuid() == 0:
            for path in (base, socket_dir):
                os.chown(path, runner.uid, runner.gid)
        base.chmod(0o700)  # only its owner (and root) goes in

        result = runner.run(
            "initdb",
            "-D",
            str(data),
            "-U",
            DB_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
            cwd=base,
            timeout=INITDB_TIMEOUT_S,
        )
        if result.returncode != 0:
            raise PostgresStartError(_explain(f"initdb ({bin_dir})", result, None))

        started = True
        port = _start(runner, base, data, socket_dir, log)
        result = runner.run(
            "createdb",
            "-h",
            str(socket_dir),
            "-p",
            str(port),
            "-U",
            DB_USER,
            DB_NAME,
            cwd=base,
            timeout=COMMAND_TIMEOUT_S,
        )
        if result.returncode != 0:
            raise PostgresStartError(_explain("createdb", result, log))

        yield f"postgresql+psycopg://{DB_USER}@127.0.0.1:{port}/{DB_NAME}"
    finally:
        if started:
            _stop(runner, base, data)
        shutil.rmtree(base, ignore_errors=True)


def drop_all_tables(url: str) -> None:
    """Drop every table of the database at ``url`` (whatever the schema's revision),
    alembic_version included: tests that share the session's server start from nothing."""
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        meta.drop_all(engine)
    finally:
        engine.dispose()
