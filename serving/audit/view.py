"""The API keys authentication trusts: those whose creation (and no revocation) is in the part
of the log that verifies against a signed tree head.

The view is built from the log when the store opens and then follows it: events this process
commits are applied as they commit; events another process wrote (``candor keys create``, a
second worker) are read and verified before any key in them is trusted. A row inserted into
the keys table, or a revocation cleared there, changes nothing here.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from candor.serving.audit import events as ev
from candor.serving.audit.events import StoredEvent
from candor.serving.audit.log import CommittedGroup
from candor.serving.audit.merkle import Frontier
from candor.serving.audit.signing import TreeHead, head_is_signed
from candor.serving.audit.verify import Problem, TreeWalk

log = logging.getLogger("candor.audit")


@dataclass(frozen=True)
class Caller:
    name: str
    role: str


# read events and heads after a size: (events with their MACs, heads), in order
ReadAfter = Callable[[int], tuple[Iterable[tuple[StoredEvent, bytes | None]], list[TreeHead]]]


class KeyView:
    def __init__(self, *, mac_key: bytes, public_key: Ed25519PublicKey) -> None:
        self._walk = TreeWalk(mac_key, public_key)
        self._lock = threading.Lock()
        self._unconfirmed: list[StoredEvent] = []  # read, not yet under a verified head
        self._by_hash: dict[str, Caller] = {}
        self._hash_of: dict[str, str] = {}

    @property
    def size(self) -> int:
        """Events verified (and applied) so far."""
        return self._walk.trusted

    @property
    def problem(self) -> Problem | None:
        return self._walk.problems[0] if self._walk.problems else None

    def caller(self, secret_hash: str) -> Caller | None:
        return self._by_hash.get(secret_hash)

    def follow(self, latest_size: int, read_after: ReadAfter) -> None:
        """Catch up to ``latest_size`` (the newest signed head in the database)."""
        if latest_size <= self._walk.trusted or self._walk.broken:
            return
        with self._lock:
            if latest_size <= self._walk.trusted or self._walk.broken:
                return
            rows, heads = read_after(self._walk.frontier.size)
            by_size = {h.tree_size: h for h in heads}
            for event, mac in rows:
                before = len(self._walk.problems)
                self._walk.feed(event, mac)
                if len(self._walk.problems) > before or self._walk.broken:
                    self._stop()
                    return
                self._unconfirmed.append(event)
                head = by_size.get(self._walk.frontier.size)
                if head is not None:
                    if not self._walk.check_head(head, where="the tree head"):
                        self._stop()
                        return
                    self._confirm()

    def snapshot(self) -> dict[str, Any] | None:
        """What this view verified, to start the next process from (None if it is broken)."""
        with self._lock:
            if self._walk.broken or self._walk.problems or self._unconfirmed:
                return None
            if self._walk.frontier.size != self._walk.trusted or not self._walk.trusted:
                return None
            return {
                "size": self._walk.trusted,
                "frontier": self._walk.frontier.to_hex(),
                "callers": {h: [c.name, c.role] for h, c in self._by_hash.items()},
                "hash_of": dict(self._hash_of),
            }

    def restore(self, state: dict[str, Any], head: TreeHead) -> bool:
        """Start from an earlier process's :meth:`snapshot` instead of from the first event,
        when ``head`` (the database's signed head of that size) verifies against it.

        The keys then come from the snapshot: events before its size are not read again at
        start (``candor audit verify`` still reads them all), so a later change to them in the
        database changes nothing here, as with events this process wrote.
        """
        size = int(state["size"])
        frontier = Frontier.from_hex(size, state["frontier"])
        if head.tree_size != size or not head_is_signed(head, self._walk.public_key):
            return False
        if head.root != frontier.root():
            return False
        with self._lock:
            if self._walk.trusted:
                return False
            self._walk.frontier = frontier
            self._walk.trusted = size
            self._by_hash = {h: Caller(n, r) for h, (n, r) in state["callers"].items()}
            self._hash_of = dict(state["hash_of"])
        return True

    def committed(self, group: CommittedGroup) -> None:
        """A group this process wrote and signed: apply it without reading it back."""
        with self._lock:
            if self._walk.broken or self._walk.frontier.size != group.start_size:
                return  # another writer came between: :meth:`follow` will read and verify
            if self._unconfirmed:
                return
            self._walk.frontier.extend(group.hashes)
            self._walk.trusted = group.head.tree_size
            self._unconfirmed.extend(group.events)
            self._confirm()

    def _confirm(self) -> None:
        for event in self._unconfirmed:
            if event.kind == ev.KEY_CREATED:
                body = json.loads(event.body)
                self._by_hash[body["secret_hash"]] = Caller(event.subject, body["role"])
                self._hash_of[event.subject] = body["secret_hash"]
            elif event.kind == ev.KEY_REVOKED:
                self._by_hash.pop(self._hash_of.get(event.subject, ""), None)
        self._unconfirmed.clear()

    def _stop(self) -> None:
        problem = self._walk.problems[0] if self._walk.problems else None
        self._walk.broken = True
        self._unconfirmed.clear()
        log.error(
            "AUDIT LOG FAILED VERIFICATION at event %s (%s): %s. Keys created after event %s "
            "are not trusted; run `candor audit verify`.",
            problem.position if problem else "?",
            problem.kind if problem else "?",
            problem.detail if problem else "",
            self._walk.trusted,
        )
