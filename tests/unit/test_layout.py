"""The installed distribution exposes one namespace, ``candor``, and carries every package."""

from __future__ import annotations

import ast
import json
import sysconfig
import tomllib
from importlib.metadata import distributions
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def test_every_installed_name_is_under_candor() -> None:
    assert all(name.startswith("candor.") for name in SETUPTOOLS["package-dir"])
    assert all(name.startswith("candor.") for name in SETUPTOOLS["packages"])
    assert PYPROJECT["project"]["scripts"] == {"candor": "candor.cli.main:main"}


def test_every_package_folder_of_the_repository_is_installed() -> None:
    """A new sub-package must be listed, or the wheel would silently lack it."""
    listed = set(SETUPTOOLS["packages"])
    for name, folder in SETUPTOOLS["package-dir"].items():
        root = REPO / folder
        for init in root.rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            relative = init.parent.relative_to(root).parts
            assert ".".join((name, *relative)) in listed, f"{init.parent} is not in packages"


def test_the_installed_distribution_has_one_top_level_package() -> None:
    # the installed copy in site-packages (not a build's candor.egg-info in the working folder)
    [dist] = distributions(name="candor", path=[sysconfig.get_paths()["purelib"]])
    url = json.loads(dist.read_text("direct_url.json") or "{}")
    if url.get("dir_info", {}).get("editable"):
        pytest.skip("editable install (files live in the repository); make install is not editable")
    tops = {
        Path(str(f)).parts[0]
        for f in dist.files or []
        if not str(f).startswith("..")  # the console script in bin/
    }
    assert tops == {"candor", f"candor-{dist.version}.dist-info"}


def _imports(folder: str) -> dict[Path, set[str]]:
    """Top-level module names imported by each Python file under ``folder``."""
    found: dict[Path, set[str]] = {}
    for path in (REPO / folder).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[path] = names
    return found


def _importers(prefixes: tuple[str, ...], *, outside: str) -> list[str]:
    folders = [f for f in SETUPTOOLS["package-dir"].values() if f != outside]
    return sorted(
        f"{path.relative_to(REPO)}: {name}"
        for folder in folders
        for path, names in _imports(folder).items()
        for name in names
        if name.split(".")[0] in prefixes or name.startswith(prefixes)
    )


def test_mlflow_is_imported_only_by_the_registry_adapter() -> None:
    assert _importers(("mlflow",), outside="registry") == []


def test_web_and_database_frameworks_are_imported_only_by_serving() -> None:
    assert _importers(("fastapi", "starlette", "sqlalchemy", "alembic"), outside="serving") == []


def test_serving_never_imports_training() -> None:
    imports = _imports("serving")
    assert (
        sorted(
            f"{path.relative_to(REPO)}: {name}"
            for path, names in imports.items()
            for name in names
            if name.startswith("candor.training")
        )
        == []
    )
