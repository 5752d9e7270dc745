"""The public model cards, built once per champion version and kept in memory for a while.

A card is read from the registry (versions, runs, artifacts: ~100 ms of server time); without a
cache a few anonymous clients asking for it slowed scoring for everyone. Each entry holds the
card's two representations, ready to send, and their validators (``ETag``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse

from candor.models.settings import Settings
from candor.serving.model_card import build_card, render_html


@dataclass(frozen=True)
class Representation:
    body: bytes
    media_type: str
    etag: str


@dataclass(frozen=True)
class CachedCard:
    json: Representation
    html: Representation
    built_at: float  # the cache clock's time (monotonic seconds)


def _representation(body: bytes, media_type: str) -> Representation:
    return Representation(body, media_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


class CardCache:
    """Cards by (model name, served champion version); an entry lives ``ttl`` seconds."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[tuple[str, str | None], CachedCard] = {}
        # one build at a time: clients arriving during a build wait for it, not build again
        self._build = threading.Lock()

    def get(self, settings: Settings, name: str, *, version: str | None) -> tuple[CachedCard, bool]:
        """The card and whether it came from the cache; NotFoundError as build_card raises it."""
        key = (name, version)
        entry = self._fresh(key, settings.model_card_cache_seconds)
        if entry is not None:
            return entry, True
        with self._build:
            entry = self._fresh(key, settings.model_card_cache_seconds)
            if entry is not None:
                return entry, True
            card: dict[str, Any] = build_card(settings, name, owner=settings.model_owner)
            entry = CachedCard(
                json=_representation(bytes(JSONResponse(card).body), "application/json"),
                html=_representation(render_html(card).encode("utf-8"), "text/html"),
                built_at=self._clock(),
            )
            self._entries = {k: v for k, v in self._entries.items() if k[0] != name}
            self._entries[key] = entry
            return entry, False

    def _fresh(self, key: tuple[str, str | None], ttl: float) -> CachedCard | None:
        entry = self._entries.get(key)
        if entry is None or self._clock() - entry.built_at >= ttl:
            return None
        return entry
