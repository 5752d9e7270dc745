"""A per-client token bucket, in memory: enough for the public routes of one process.

Each client (an IP address) holds up to ``burst`` tokens, refilled at ``rate_per_minute``; a
request spends one. A refused request learns how long to wait (``Retry-After``). The limits are
passed with each request, so that settings overridden in tests apply at once.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from candor.models.errors import CandorError

# clients remembered at once; the least recently seen are forgotten first (a forgotten client
# starts again with a full bucket, which only ever errs towards serving)
MAX_CLIENTS = 10_000


class RateLimitedError(CandorError):
    """A client asked more often than its bucket allows (HTTP 429 with Retry-After)."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TokenBucket:
    """Buckets per client key; thread-safe (sync routes run in a thread pool)."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, max_clients: int = MAX_CLIENTS
    ) -> None:
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at
        self._lock = threading.Lock()

    def take(self, client: str, *, rate_per_minute: float, burst: int, what: str) -> None:
        """Spend one of ``client``'s tokens, or raise :class:`RateLimitedError`."""
        rate = rate_per_minute / 60.0  # tokens a second
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(client, (float(burst), now))
            tokens = min(float(burst), tokens + (now - at) * rate)
            spent = tokens >= 1.0
            self._buckets[client] = (tokens - 1.0 if spent else tokens, now)
            while len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
        if not spent:
            wait = max(1, math.ceil((1.0 - tokens) / rate))
            raise RateLimitedError(
                f"too many requests for {what}: at most {burst} at once and "
                f"{rate_per_minute:g} a minute per client; retry in {wait} s",
                retry_after=wait,
            )
