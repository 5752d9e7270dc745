"""Which leads a request's audit events were about.

The ``Idempotency-Key`` middleware keeps a request's first answer for its retries; an answer
about a lead (a score, a call plan, an outcome) holds the lead's id and data, so it must go
when the lead is erased. The middleware opens a collection around the route
(:func:`collecting`); every submission the audit log commits in that request adds its events'
lead keys (:func:`note`); the stored answer is linked to them (``idempotency_leads``).

A :class:`contextvars.ContextVar`: the route runs in the middleware's task, or in a worker
thread that starts with a copy of its context, so both add to the same set.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[set[str] | None] = ContextVar("candor_answered_leads", default=None)


@contextmanager
def collecting() -> Iterator[set[str]]:
    """The lead keys of every event committed inside the block (in this context)."""
    found: set[str] = set()
    token = _current.set(found)
    try:
        yield found
    finally:
        _current.reset(token)


def note(lead_keys: Iterable[str | None]) -> None:
    """Add committed events' lead keys to the open collection, if any."""
    found = _current.get()
    if found is not None:
        found.update(key for key in lead_keys if key is not None)
