"""Verify the audit log: every event against its MAC and the signed tree heads, the heads
against the checkpoint file outside the database, every projection against the events, and
every sealed payload against the digest its leaf holds; a payload or data key that is gone
must be accounted for by an erasure or a retention purge in the log.

Pure checks over rows already read (the store reads them); nothing here writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from candor.serving.audit import projections
from candor.serving.audit.checkpoints import Checkpoint
from candor.serving.audit.events import StoredEvent, leaf_mac
from candor.serving.audit.merkle import Frontier, leaf_hash
from candor.serving.audit.sealing import payload_digest
from candor.serving.audit.signing import TreeHead, head_is_signed

MAX_REPORTED = 50  # problems listed; the count says how many more


@dataclass(frozen=True)
class Problem:
    position: int  # the first event (1-based seq) concerned; 0: not about one event
    kind: str  # altered | deleted | inserted | forged | unbacked | missing | checkpoint
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    events: int
    heads: int
    checkpoints: int
    problems: tuple[Problem, ...]
    more: int = 0  # problems found beyond those listed

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        """The problem at the lowest position (the first event that cannot be trusted)."""
        about_events = [p for p in self.problems if p.position > 0]
        pool = about_events or list(self.problems)
        return min(pool, key=lambda p: p.position) if pool else None


@dataclass(frozen=True)
class Removals:
    """The erasures and purges in the log (read before the walk; each is verified as the walk
    reaches it): what may account for a sealed payload that is gone."""

    erased: Mapping[str, int] = field(default_factory=dict)  # lead key -> its last erasure
    purges: Sequence[tuple[int, str]] = ()  # (seq, cutoff)
    keyless: Sequence[str] = ()  # lead keys with readable payloads but no data key

    def covers(self, event: StoredEvent) -> bool:
        if event.lead_key is not None and self.erased.get(event.lead_key, 0) > event.seq:
            return True
        return any(seq > event.seq and event.at < cutoff for seq, cutoff in self.purges)


def check_payload(event: StoredEvent, removals: Removals) -> Problem | None:
    """A sealed event's payload: present and matching its leaf, or removed by the log's own
    erasure or purge."""
    if event.sealed is None:
        return None
    if event.payload is not None:
        if payload_digest(event.payload) == event.sealed:
            return None
        return Problem(
            event.seq,
            "altered",
            f"the sealed payload of event {event.seq} ({event.kind} {event.subject[:40]!r}) was "
            "changed after it was written (its digest no longer matches the leaf)",
        )
    if removals.covers(event):
        return None
    return Problem(
        event.seq,
        "deleted",
        f"the sealed payload of event {event.seq} ({event.kind} {event.subject[:40]!r}) was "
        "removed, and no erasure or purge in the log accounts for it",
    )


@dataclass
class TreeWalk:
    """Walks events in order from a verified point, checking MACs and signed heads.

    ``trusted`` is the size up to which a signed head verified every event; events past it
    are not trusted yet.
    """

    mac_key: bytes
    public_key: Ed25519PublicKey
    frontier: Frontier = field(default_factory=Frontier)
    trusted: int = 0
    problems: list[Problem] = field(default_factory=list)
    broken: bool = False  # the tree can no longer be followed (a gap in the positions)
    diverged: bool = False  # a signed root did not match: nothing after it is trusted
    roots: dict[int, bytes] = field(default_factory=dict)  # computed root per wanted size
    wanted: set[int] = field(default_factory=set)
    hashes: list[bytes] | None = None  # every leaf hash, when kept (inclusion proofs)

    def feed(self, event: StoredEvent, mac: bytes | None) -> None:
        expected = self.frontier.size + 1
        if self.broken:
            return
        if event.seq != expected:
            kind = "deleted" if event.seq > expected else "inserted"
            what = (
                f"events {expected}..{event.seq - 1} are missing (the next present is {event.seq})"
                if event.seq > expected
                else f"event {event.seq} is out of order after {expected - 1}"
            )
            self._problem(Problem(expected, kind, what))
            self.broken = True
            return
        hashed = leaf_hash(event.leaf())
        if mac is None or bytes(mac) != leaf_mac(self.mac_key, hashed):
            self._problem(
                Problem(
                    event.seq,
                    "altered",
                    f"event {event.seq} ({event.kind} {event.subject[:40]!r}) was changed after "
                    "it was written (its MAC no longer matches its contents)",
                )
            )
        self.frontier.append(hashed)
        if self.hashes is not None:
            self.hashes.append(hashed)
        if self.frontier.size in self.wanted:
            self.roots[self.frontier.size] = self.frontier.root()

    def check_head(self, head: TreeHead, *, where: str) -> bool:
        """A signed head whose size the walk has reached: signature and root."""
        if not head_is_signed(head, self.public_key):
            self._problem(
                Problem(
                    head.tree_size,
                    "forged",
                    f"{where} for {head.tree_size} events (signed at {head.signed_at}) does not "
                    "carry a valid signature of the audit key",
                )
            )
            return False
        root = self.roots.get(head.tree_size)
        if root is None and self.frontier.size == head.tree_size and not self.broken:
            root = self.frontier.root()
        if root is None:
            return False
        if root != head.root:
            low = self.first_bad(head.tree_size)
            self._problem(
                Problem(
                    low,
                    "altered",
                    f"{where} signed at {head.signed_at} covers {head.tree_size} events, but the "
                    f"events in the database give another root: an event in {low}.."
                    f"{head.tree_size} was changed, inserted or removed",
                )
            )
            self.broken = True
            return False
        if not (self.broken or self.diverged or self.problems):
            self.trusted = max(self.trusted, head.tree_size)
        return True

    def first_bad(self, tree_size: int) -> int:
        """The first position a mismatched root of ``tree_size`` events can be blamed on:
        an event whose MAC failed, else the first one past the last verified head."""
        low = self.trusted + 1 if self.trusted < tree_size else 1
        exact = [
            p.position
            for p in self.problems
            if p.kind == "altered" and low <= p.position <= tree_size
        ]
        return min(exact, default=low)

    def _problem(self, problem: Problem) -> None:
        self.problems.append(problem)


def verify_log(
    *,
    events: Iterable[tuple[StoredEvent, bytes | None]],
    heads: Sequence[TreeHead],
    writer: Mapping[str, Any] | None,
    checkpoints: Sequence[Checkpoint],
    projected: Mapping[str, Iterable[Mapping[str, Any]]],
    mac_key: bytes,
    public_key: Ed25519PublicKey,
    removals: Removals | None = None,
) -> VerifyReport:
    """Everything ``candor audit verify`` checks, over rows read in ``seq`` order."""
    removals = removals or Removals()
    walk = TreeWalk(mac_key, public_key)
    heads = sorted(heads, key=lambda h: h.tree_size)
    walk.wanted = {h.tree_size for h in heads} | {
        c.head.tree_size for c in checkpoints if c.head is not None
    }
    pending = list(heads)
    expected = projections.replay(())
    count = 0
    for event, mac in events:
        count += 1
        walk.feed(event, mac)
        payload_problem = check_payload(event, removals)
        if payload_problem is not None:
            walk.problems.append(payload_problem)
        while pending and pending[0].tree_size <= walk.frontier.size:
            head = pending.pop(0)
            if head.tree_size == walk.frontier.size or head.tree_size in walk.roots:
                walk.check_head(head, where="the tree head")
        try:
            body = json.loads(event.body)
            projections.apply(expected, projections.changes(event, body))
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # an unreadable body is reported by its MAC
    size = walk.frontier.size if not walk.broken else count
    problems = walk.problems
    for head in [] if walk.broken else pending:  # heads beyond the events present
        if not head_is_signed(head, public_key):
            problems.append(
                Problem(
                    head.tree_size,
                    "forged",
                    f"a tree head for {head.tree_size} events is not signed",
                )
            )
            continue
        problems.append(
            Problem(
                size + 1,
                "deleted",
                f"the tree head signed at {head.signed_at} covers {head.tree_size} events; the "
                f"database holds {size}: events after {size} were removed",
            )
        )
    last_signed = heads[-1].tree_size if heads else 0
    if size > last_signed and not walk.broken:
        problems.append(
            Problem(
                last_signed + 1,
                "inserted",
                f"events {last_signed + 1}..{size} are not covered by any signed tree head: "
                "they were added outside the service",
            )
        )
    if writer is not None and (
        int(writer["tree_size"]) != size
        or (not problems and json.loads(writer["frontier"]) != walk.frontier.to_hex())
    ):
        problems.append(
            Problem(
                min(int(writer["tree_size"]), size) + 1,
                "altered",
                f"the writer row says {writer['tree_size']} events; the log holds {size}",
            )
        )
    for checkpoint in checkpoints:
        problems.extend(_check_checkpoint(checkpoint, walk, size))
    problems.extend(
        Problem(
            0,
            "deleted",
            f"the data key of lead {key[:12]}... was destroyed, and no erasure in the log "
            "accounts for it: its sealed records can no longer be read",
        )
        for key in removals.keyless
    )
    problems.extend(_check_projections(expected, projected))
    listed = tuple(sorted(problems, key=lambda p: (p.position == 0, p.position))[:MAX_REPORTED])
    return VerifyReport(
        events=count,
        heads=len(heads),
        checkpoints=len(checkpoints),
        problems=listed,
        more=max(len(problems) - MAX_REPORTED, 0),
    )


def _check_checkpoint(checkpoint: Checkpoint, walk: TreeWalk, size: int) -> list[Problem]:
    where = f"checkpoint line {checkpoint.line}"
    head = checkpoint.head
    if head is None:
        return [Problem(0, "checkpoint", f"{where} is not a tree head ({checkpoint.error})")]
    if not head_is_signed(head, walk.public_key):
        return [Problem(0, "checkpoint", f"{where} does not carry a valid signature")]
    if head.tree_size > size:
        return [
            Problem(
                size + 1,
                "deleted",
                f"{where}, signed at {head.signed_at}, covers {head.tree_size} events; the "
                f"database holds {size}: its tail was cut or an older copy of it was restored",
            )
        ]
    root = walk.roots.get(head.tree_size)
    if root is not None and root != head.root:
        return [
            Problem(
                walk.first_bad(head.tree_size),
                "altered",
                f"{where}, signed at {head.signed_at}, has another root for the first "
                f"{head.tree_size} events than the database: the log was rewritten",
            )
        ]
    return []


def _check_projections(
    expected: projections.Rows, projected: Mapping[str, Iterable[Mapping[str, Any]]]
) -> list[Problem]:
    problems: list[Problem] = []
    for table, keys in projections.PROJECTIONS.items():
        want = expected[table]
        seen: set[tuple[Any, ...]] = set()
        for raw in projected.get(table, ()):
            row = dict(raw)
            key = tuple(row[k] for k in keys)
            seen.add(key)
            should = want.get(key)
            if should is None:
                problems.append(
                    Problem(
                        _position(row),
                        "unbacked",
                        f"{table} row {_key_text(keys, key)} is not backed by any event",
                    )
                )
            elif _normal(row) != _normal(should):
                changed = sorted(
                    c for c in should if _normal_value(row.get(c)) != _normal_value(should[c])
                )
                problems.append(
                    Problem(
                        _position(should),
                        "unbacked",
                        f"{table} row {_key_text(keys, key)} differs from its event "
                        f"({', '.join(changed)})",
                    )
                )
        for key, should in want.items():
            if key not in seen:
                problems.append(
                    Problem(
                        _position(should),
                        "missing",
                        f"{table} row {_key_text(keys, key)} was removed (its event is in the log)",
                    )
                )
    return problems


def _position(row: Mapping[str, Any]) -> int:
    for column in ("seq", "created_seq"):
        if row.get(column) is not None:
            return int(row[column])
    return 0


def _key_text(keys: Sequence[str], key: tuple[Any, ...]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in zip(keys, key, strict=True))


def _normal_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value


def _normal(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _normal_value(v) for k, v in row.items()}
