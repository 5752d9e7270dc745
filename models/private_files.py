"""Files that hold Candor's state are owner-only: folders 0700, files 0600.

The ``candor`` command sets a umask of 077; these functions make the same true where Candor runs
under another process's umask (uvicorn started directly, a notebook, tests): files are created
with the mode, and ones left by an older home lose group and other access when opened.
"""

from __future__ import annotations

import os
from pathlib import Path


def private_folder(path: Path) -> None:
    """Make ``path`` (and its missing parents) a folder; one it creates is mode 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 when missing (an empty file is a new SQLite
    database); take group and other access off one that exists."""
    private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        owner_only(path)


def owner_only(path: Path) -> None:
    """Take group and other access off ``path`` if it exists (its owner's bits are kept)."""
    try:
        mode = path.stat().st_mode & 0o7777
        if mode & 0o077:
            path.chmod(mode & ~0o077)
    except (FileNotFoundError, PermissionError):  # gone, or another user's: not ours to change
        pass


def owner_only_tree(root: Path) -> None:
    """:func:`owner_only` for ``root`` and everything below it (MLflow writes artifacts with
    the process's umask; outside the ``candor`` command that is usually 022)."""
    if not root.is_dir():
        return
    owner_only(root)
    for folder, names, files in os.walk(root):
        for name in (*names, *files):
            owner_only(Path(folder, name))


def write_new_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` created 0600, unless another process created it first (then
    theirs is kept: every process must use the same secret)."""
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
