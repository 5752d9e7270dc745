"""Serve the registry's current champions without a restart.

At startup both champions are loaded (:func:`refresh_champions` with ``initial=True``). Later,
``POST /v1/models/reload`` and, every ``model_reload_seconds`` (0: never), a background check
(:class:`ChampionWatch`) ask the registry where each champion alias points, and load a model
again only when that is another version than the one served.

A swap is safe for requests in flight: the new service is built beside the old one and put on
:class:`~candor.serving.state.ServingState` in one assignment; a request that already holds
the old service finishes with it. A load that fails keeps the old service (the service is
never left without a model it had) and says why.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI

from candor.models.errors import CandorError
from candor.models.settings import Settings
from candor.registry import FORECAST, LEADS, LoadedModel, ModelKind, load_model
from candor.registry.versions import champion_version
from candor.serving.audit.labels import UNKEYED
from candor.serving.monitoring.drift import last_drift_check
from candor.serving.services.forecasts import ForecastService
from candor.serving.services.leads import LeadScoringService
from candor.serving.state import ServingState

log = logging.getLogger("candor.serving")
M = TypeVar("M")
S = TypeVar("S")


@dataclass(frozen=True)
class ModelSwap:
    """What one check did for one kind of model."""

    kind: str  # leads or forecast
    model: str  # the registered name
    before: str | None  # the version served before the check (None: none)
    after: str | None  # the version served now
    champion: str | None  # where the registry's alias points (None: nowhere, or unreadable)
    error: str | None  # why the champion was not loaded (the version served stays)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "model": self.model,
            "from": self.before,
            "to": self.after,
            "changed": self.changed,
            "champion": self.champion,
            "error": self.error,
        }


def refresh_champions(
    app: FastAPI, state: ServingState, settings: Settings, *, initial: bool = False
) -> tuple[ModelSwap, ModelSwap]:
    """Serve each kind's champion: the lead scorer's, then the forecaster's (optional).

    ``initial``: load both whatever is served (startup); otherwise only a kind whose champion
    is another version than the one served. One refresh runs at a time.
    """
    with state.reload_lock:
        label = UNKEYED if state.audit is None else state.audit.unseen_label
        scoring, leads = _refresh(
            settings,
            LEADS,
            state.scoring,
            lambda loaded: LeadScoringService(
                loaded, settings.policy, settings.input_limits, label
            ),
            initial=initial,
            level=logging.ERROR,
        )
        if scoring is not None:
            state.scoring = scoring  # one assignment: requests in flight keep the old one
        elif state.scoring is None and leads.error is not None:
            state.scoring_error = leads.error
        forecasting, forecast = _refresh(
            settings,
            FORECAST,
            state.forecasting,
            lambda loaded: ForecastService(loaded, settings.forecast_policy),
            initial=initial,
            level=logging.WARNING,
        )
        if forecasting is not None:
            state.forecasting = forecasting
        elif state.forecasting is None and forecast.error is not None:
            state.forecasting_error = forecast.error
        if initial or leads.changed or forecast.changed:
            app.openapi_schema = None  # rebuilt with the models' lead and series schemas
        # a drift check run elsewhere (a scheduled `candor monitor drift`, another worker)
        # reaches /healthz, which reads no database, here
        latest = last_drift_check(state.audit)
        if latest is not None:
            state.drift = latest
    return leads, forecast


def _refresh(
    settings: Settings,
    kind: ModelKind[M],
    served: Any,
    build: Callable[[LoadedModel[M]], S],
    *,
    initial: bool,
    level: int,
) -> tuple[S | None, ModelSwap]:
    """A new service for ``kind`` when its champion is not the one served (else None), and
    what happened."""
    name = kind.registered_name(settings)
    before = None if served is None else str(served.loaded.version)
    try:
        champion = champion_version(settings, name)
    except Exception as exc:  # an unreachable registry: keep serving, say why
        return None, ModelSwap(
            kind.command, name, before, before, None, _kept(f"{type(exc).__name__}: {exc}", before)
        )
    if not initial and champion is None:  # no alias (or the registry cannot say): keep serving
        return None, ModelSwap(
            kind.command,
            name,
            before,
            before,
            None,
            _kept("the registry names no champion", before),
        )
    if not initial and champion == before:
        return None, ModelSwap(kind.command, name, before, before, champion, None)
    try:
        # the version just read, not the alias again: a move in between is picked up next time
        loaded = load_model(settings, kind=kind, ref=champion)
        service = build(loaded)
    except CandorError as exc:
        log.log(level, "%s not loaded: %s", name, exc.message)
        return None, ModelSwap(
            kind.command, name, before, before, champion, _kept(exc.message, before)
        )
    except Exception as exc:  # a broken artifact must not take the model served down with it
        log.exception("%s not loaded", name)
        return None, ModelSwap(
            kind.command,
            name,
            before,
            before,
            champion,
            _kept(f"{type(exc).__name__}: {exc}", before),
        )
    log.info("serving %s version %s", loaded.name, loaded.version)
    return service, ModelSwap(kind.command, name, before, loaded.version, champion, None)


def _kept(problem: str, before: str | None) -> str:
    return problem if before is None else f"{problem}; still serving version {before}"


class ChampionWatch:
    """The periodic check: a daemon thread calling ``check`` every ``seconds`` until stopped."""

    def __init__(self, check: Callable[[], tuple[ModelSwap, ...]], seconds: float) -> None:
        self._check = check
        self._seconds = seconds
        self._stop = threading.Event()
        self._problems: dict[str, str | None] = {}
        self._thread = threading.Thread(target=self._run, name="candor-champion-watch", daemon=True)

    def start(self) -> ChampionWatch:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """End the thread (after a load in progress, if any: waited for at most ``timeout``)."""
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the champion check did not stop within %.0f s; left to end", timeout)

    def _run(self) -> None:
        while not self._stop.wait(self._seconds):
            try:
                swaps = self._check()
            except Exception:  # the check goes on; the models served stay
                log.exception("the periodic champion check failed")
                continue
            for swap in swaps:
                if swap.changed:
                    log.info(
                        "periodic check: now serving %s version %s (was %s)",
                        swap.model,
                        swap.after,
                        swap.before or "none",
                    )
                if swap.error != self._problems.get(swap.model) and swap.error is not None:
                    log.warning("periodic check: %s: %s", swap.model, swap.error)  # once a cause
                self._problems[swap.model] = swap.error


def watch_champions(app: FastAPI, state: ServingState, settings: Settings) -> ChampionWatch | None:
    """Start the periodic check when ``settings.model_reload_seconds`` is above 0."""
    if settings.model_reload_seconds <= 0:
        return None
    return ChampionWatch(
        lambda: refresh_champions(app, state, settings), settings.model_reload_seconds
    ).start()
