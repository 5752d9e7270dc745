"""A forecaster's plain files: LightGBM text models, JSON, YAML and an ``.npz`` of arrays read
with ``allow_pickle=False`` (nothing pickled). The names and layout are those of every saved
forecaster, so older ones load unchanged."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import lightgbm as lgb
import numpy as np
import yaml

from candor.models.contract import SalesContract, dump_sales_contract, sales_contract_from_dict
from candor.models.forecast.history import SeriesHistory

BOOSTER_FILE = "booster_h{h:02d}.txt"
META_FILE = "forecaster.json"
CONTRACT_FILE = "contract.yaml"
HISTORY_FILE = "history.npz"


def save_files(
    directory: str | Path,
    *,
    boosters: Sequence[lgb.Booster],
    meta: Mapping[str, Any],
    contract: SalesContract,
    history: Mapping[tuple[str, ...], SeriesHistory],
) -> Path:
    """Write one booster file per step, the JSON metadata, the contract and the histories."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for h, booster in enumerate(boosters, start=1):
        booster.save_model(str(path / BOOSTER_FILE.format(h=h)))
    (path / META_FILE).write_text(json.dumps(meta, indent=1, default=str))
    (path / CONTRACT_FILE).write_text(dump_sales_contract(contract))
    _save_history(path / HISTORY_FILE, history, contract)
    return path


def load_meta(directory: str | Path) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads((Path(directory) / META_FILE).read_text()))


def load_boosters(directory: str | Path, horizon: int) -> list[lgb.Booster]:
    path = Path(directory)
    return [
        lgb.Booster(model_file=str(path / BOOSTER_FILE.format(h=h))) for h in range(1, horizon + 1)
    ]


def load_contract(directory: str | Path) -> SalesContract:
    return sales_contract_from_dict(yaml.safe_load((Path(directory) / CONTRACT_FILE).read_text()))


def load_history(
    directory: str | Path, contract: SalesContract
) -> dict[tuple[str, ...], SeriesHistory]:
    return _load_history(Path(directory) / HISTORY_FILE, contract)


def _save_history(
    path: Path, history: Mapping[tuple[str, ...], SeriesHistory], contract: SalesContract
) -> None:
    """Histories as plain arrays (no pickle): keys as text, one row per series, NaN-padded."""
    keys = list(history)
    width = max((len(s) for s in history.values()), default=0)
    units = np.full((len(keys), width), np.nan)
    lengths = np.array([len(history[k]) for k in keys], dtype=np.int64)
    arrays: dict[str, np.ndarray] = {}
    for i, k in enumerate(keys):
        units[i, : lengths[i]] = history[k].units
    for f in contract.covariates:
        cov = np.full((len(keys), width), np.nan)
        for i, k in enumerate(keys):
            cov[i, : lengths[i]] = history[k].covariates[f.name][: lengths[i]]
        arrays[f"cov__{f.name}"] = cov
    arrays["keys"] = np.array(["\x1f".join(k) for k in keys], dtype=str)
    arrays["first_week"] = np.array([str(history[k].first_week) for k in keys], dtype=str)
    arrays["lengths"] = lengths
    arrays["units"] = units
    np.savez(path, **cast(dict[str, Any], arrays))


def _load_history(path: Path, contract: SalesContract) -> dict[tuple[str, ...], SeriesHistory]:
    out: dict[tuple[str, ...], SeriesHistory] = {}
    with np.load(path, allow_pickle=False) as npz:
        for i, raw_key in enumerate(npz["keys"].tolist()):
            n = int(npz["lengths"][i])
            key = tuple(str(raw_key).split("\x1f"))
            covariates = {
                f.name: np.asarray(npz[f"cov__{f.name}"][i, :n], dtype=float)
                for f in contract.covariates
            }
            out[key] = SeriesHistory(
                key,
                np.datetime64(str(npz["first_week"][i]), "D"),
                np.asarray(npz["units"][i, :n], dtype=float),
                covariates,
            )
    return out
