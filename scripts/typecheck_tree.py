"""Lay out build/typecheck/candor as links that mirror pyproject's package-dir mapping.

mypy resolves modules by folder, so it cannot see `models/` as `candor.models` by itself; this
tree gives it the installed names without an install. Run from the repository root.
"""

import shutil
import tomllib
from pathlib import Path

ROOT = Path("build/typecheck")


def main() -> None:
    mapping = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    shutil.rmtree(ROOT, ignore_errors=True)
    for package, folder in mapping.items():
        link = ROOT.joinpath(*package.split("."))
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path(folder).resolve(), target_is_directory=True)


if __name__ == "__main__":
    main()
