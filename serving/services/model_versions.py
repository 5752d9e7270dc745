"""Lead scorer versions other than the champion, loaded on demand for explaining old scores.

A change between two scores of different versions needs the newer version's model on the
older score's inputs; that version is the champion most of the time, and otherwise is loaded
from the registry once and kept (a few versions at most).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from candor.models.errors import ModelNotAvailableError
from candor.models.leads.scorer import LeadScorer
from candor.models.settings import Settings
from candor.registry import LEADS, load_model

KEPT_VERSIONS = 4


class ScorerVersions:
    """Registered lead scorer versions by (version, run id), the last few kept in memory."""

    def __init__(self, kept: int = KEPT_VERSIONS) -> None:
        self._kept = kept
        self._loaded: OrderedDict[tuple[str, str, str], LeadScorer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, settings: Settings, *, version: str, run_id: str) -> LeadScorer:
        """The scorer of ``version``, which must be the one trained in run ``run_id``.

        Raises:
            ModelNotAvailableError: no such version in the registry, or a version of that
                number trained in another run (the registry is not the one that scored).
        """
        key = (settings.tracking_uri, version, run_id)
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
        loaded = load_model(settings, kind=LEADS, ref=version)
        if loaded.run_id != run_id:
            raise ModelNotAvailableError(
                f"version {version} of {loaded.name} in the registry was trained in run "
                f"{loaded.run_id}, not in run {run_id} that made the score: this registry is "
                "not the one the scores came from"
            )
        with self._lock:
            self._loaded[key] = loaded.model
            while len(self._loaded) > self._kept:
                self._loaded.popitem(last=False)
        return loaded.model
