"""``Idempotency-Key`` on the write routes: a retry gets the first answer and writes nothing.

A pure-ASGI middleware in front of the write routes (:data:`WRITE_ROUTES`: score, call plan,
forecast, review decision, outcome, erasure, sales actuals; every POST route of the app). A
POST that carries the header, from a caller whose API key authenticates, is claimed in the
``idempotency_keys`` table of the audit database before the route runs:

- first time: the route runs; an answer under 500 is stored (sealed) before it is sent, a 5xx
  or an exception removes the claim so that a retry runs again;
- the same key, method, path and request again within ``idempotency_ttl_hours``: the stored
  status, content type and body, with ``Idempotent-Replayed: true``; nothing is written;
- the same key with another request: 422 ``idempotency_key_reused``;
- while the first is still running: 409 ``idempotency_request_in_progress``;
- a header that is not one key of 1 to 255 printable ASCII characters: 422
  ``idempotency_key_invalid``.

The refusals are built here with :func:`candor.serving.errors.error_response` (the one error
shape): a middleware runs outside the app's exception handlers.

Keys are scoped to the caller (the Authorization value), the method and the path. The table
holds keyed hashes and sealed bodies only: see :func:`candor.serving.audit.secrets.
idempotency_secrets`. Without an audit store the request passes untouched (the route answers
503); without the header, or from an unknown caller, too.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, cast

import anyio
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, Table, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from candor.models.errors import CandorError
from candor.serving.audit import answered_leads
from candor.serving.audit import events as ev
from candor.serving.audit.log import EVENTS, WRITER
from candor.serving.audit.secrets import IdempotencySecrets, idempotency_secrets, length_prefixed
from candor.serving.audit.store import AuditStore
from candor.serving.audit.tables import IdempotencyKey, IdempotencyLead
from candor.serving.errors import error_response
from candor.serving.state import serving_state

log = logging.getLogger("candor.serving")

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# a claim still pending this long after it was made belongs to a process that died mid-request
# (no request runs this long: the audit write lock is waited for at most 60 s); a retry takes it
PENDING_LEASE = timedelta(minutes=10)
PURGE_EVERY_S = 60.0
NONCE_BYTES = 12  # AES-GCM's standard nonce, random per sealed body

KEYS = cast(Table, IdempotencyKey.__table__)
LEADS = cast(Table, IdempotencyLead.__table__)
CHUNK = 500  # lead keys per statement: well under any database's limit on bound parameters
# every POST route writes (a test holds this list to the app's routes): scores, call plans,
# forecasts, review decisions (of scores and forecasts alike), outcomes, a champion reload
WRITE_ROUTES = (
    "/v1/leads/score",
    "/v1/call-plans",
    "/v1/forecasts",
    "/v1/reviews/{score_id}",
    "/v1/outcomes",
    "/v1/models/reload",
    "/v1/privacy/erasures",
    "/v1/sales/actuals",
    "/v1/forecasts/scenarios",
)


# --- what is stored, sealed ---------------------------------------------------------------


@dataclass(frozen=True)
class StoredAnswer:
    """The first answer to a key: replayed as it was, byte for byte."""

    status: int
    content_type: str
    body: bytes


def request_fingerprint(
    secrets: IdempotencySecrets, *, method: str, path: str, query: bytes, body: bytes
) -> str:
    """The request's keyed hash (HMAC-SHA256, hex): keyed, so that a short body (an outcome)
    cannot be confirmed by hashing guesses with the database in hand."""
    material = length_prefixed([method.encode(), path.encode(), query, body])
    return hmac.new(secrets.fingerprint_key, material, hashlib.sha256).hexdigest()


def _associated(row_id: str, fingerprint: str, status: int, content_type: str) -> bytes:
    # the row's plain columns are authenticated with the body: none can be swapped for another
    return length_prefixed(
        [row_id.encode(), fingerprint.encode(), str(status).encode(), content_type.encode()]
    )


def seal(secrets: IdempotencySecrets, fingerprint: str, answer: StoredAnswer) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    aad = _associated(secrets.row_id, fingerprint, answer.status, answer.content_type)
    return nonce + AESGCM(secrets.seal_key).encrypt(nonce, answer.body, aad)


def unseal(
    secrets: IdempotencySecrets, fingerprint: str, *, status: int, content_type: str, blob: bytes
) -> StoredAnswer:
    """The stored answer; ``cryptography.exceptions.InvalidTag`` if the row was altered."""
    aad = _associated(secrets.row_id, fingerprint, status, content_type)
    body = AESGCM(secrets.seal_key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    return StoredAnswer(status, content_type, body)


# --- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """What the table says of a request: run it (``claimed``), or answer without running it."""

    outcome: Literal["claimed", "replay", "reused", "in_progress"]
    answer: StoredAnswer | None = None  # with ``replay``


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def claim(
    engine: Engine,
    secrets: IdempotencySecrets,
    fingerprint: str,
    *,
    now: datetime,
    ttl: timedelta,
) -> Claim:
    """Claim the key atomically (the INSERT is the lock: the primary key refuses a second).

    An expired row, or a pending one past :data:`PENDING_LEASE`, is deleted and claimed anew.
    """
    row_id = secrets.row_id
    for _ in range(3):  # a row removed or expired between our INSERT and SELECT: once more
        try:
            with engine.begin() as conn:
                conn.execute(
                    insert(KEYS).values(
                        id=row_id, fingerprint=fingerprint, state="pending", created_at=_iso(now)
                    )
                )
            return Claim("claimed")
        except IntegrityError:
            pass
        with engine.connect() as conn:
            row = conn.execute(select(KEYS).where(KEYS.c.id == row_id)).mappings().first()
        if row is None:
            continue
        expired = _iso(now - ttl)
        abandoned = _iso(now - PENDING_LEASE)
        if row["created_at"] < expired or (
            row["state"] == "pending" and row["created_at"] < abandoned
        ):
            with engine.begin() as conn:  # compare-and-delete: only while it is still stale
                gone = conn.execute(
                    delete(KEYS).where(
                        KEYS.c.id == row_id,
                        or_(
                            KEYS.c.created_at < expired,
                            (KEYS.c.state == "pending") & (KEYS.c.created_at < abandoned),
                        ),
                    )
                ).rowcount
                if gone:
                    conn.execute(delete(LEADS).where(LEADS.c.idempotency_id == row_id))
            continue
        if not hmac.compare_digest(row["fingerprint"], fingerprint):
            return Claim("reused")
        if row["state"] != "done":
            return Claim("in_progress")
        answer = unseal(
            secrets,
            fingerprint,
            status=int(row["status"]),
            content_type=str(row["content_type"]),
            blob=bytes(row["body"]),
        )
        return Claim("replay", answer)
    return Claim("in_progress")


def finish(
    engine: Engine,
    secrets: IdempotencySecrets,
    fingerprint: str,
    answer: StoredAnswer,
    *,
    lead_keys: frozenset[str] = frozenset(),
) -> bool:
    """Store the first answer (sealed) on its pending claim, linked to the leads it is about
    (``lead_keys``); False, and the claim removed, where one of them was erased since the
    claim was made: an answer about an erased lead is sent once and never kept."""
    keys = sorted(lead_keys)
    with engine.begin() as conn:
        if keys and conn.dialect.name == "postgresql":
            # the log writer's lock (an erasure holds it while it deletes answers): the check
            # below and the links then see every erasure committed before, and none commits
            # between them (SQLite's BEGIN IMMEDIATE serialises writers already)
            conn.execute(select(WRITER.c.id).where(WRITER.c.id == 1).with_for_update())
        claimed_at = conn.execute(
            select(KEYS.c.created_at).where(
                KEYS.c.id == secrets.row_id, KEYS.c.fingerprint == fingerprint
            )
        ).scalar_one_or_none()
        erased_since = claimed_at is not None and any(
            conn.execute(
                select(EVENTS.c.seq)
                .where(
                    EVENTS.c.kind == ev.ERASURE,
                    EVENTS.c.lead_key.in_(keys[i : i + CHUNK]),
                    EVENTS.c.at >= claimed_at,
                )
                .limit(1)
            ).first()
            for i in range(0, len(keys), CHUNK)
        )
        if erased_since:
            conn.execute(
                delete(KEYS).where(KEYS.c.id == secrets.row_id, KEYS.c.fingerprint == fingerprint)
            )
            return False
        conn.execute(
            update(KEYS)
            .where(KEYS.c.id == secrets.row_id, KEYS.c.fingerprint == fingerprint)
            .values(
                state="done",
                status=answer.status,
                content_type=answer.content_type,
                body=seal(secrets, fingerprint, answer),
            )
        )
        if keys:
            conn.execute(
                insert(LEADS), [{"idempotency_id": secrets.row_id, "lead_key": k} for k in keys]
            )
    return True


def release(engine: Engine, secrets: IdempotencySecrets, fingerprint: str) -> None:
    """Remove a pending claim whose request failed, so that a retry runs it again."""
    with engine.begin() as conn:
        conn.execute(
            delete(KEYS).where(
                KEYS.c.id == secrets.row_id,
                KEYS.c.fingerprint == fingerprint,
                KEYS.c.state == "pending",
            )
        )


def purge(engine: Engine, *, before: datetime) -> int:
    """Delete every row made before ``before`` (expired: never replayed again), and its
    links to leads."""
    expired = KEYS.c.created_at < _iso(before)
    with engine.begin() as conn:
        conn.execute(
            delete(LEADS).where(LEADS.c.idempotency_id.in_(select(KEYS.c.id).where(expired)))
        )
        return int(conn.execute(delete(KEYS).where(expired)).rowcount)


# --- the middleware -------------------------------------------------------------------------


def key_problem(values: list[bytes]) -> str | None:
    """Why the header's values are not one usable key (None when they are)."""
    if len(values) != 1:
        return f"send one {HEADER} header, got {len(values)}"
    value = values[0]
    if not 1 <= len(value) <= MAX_KEY_LENGTH:
        return f"1 to {MAX_KEY_LENGTH} characters, got {len(value)}"
    if any(not 0x20 <= byte <= 0x7E for byte in value):
        return "printable ASCII characters only (a UUID, say)"
    return None


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)))


_WRITES = tuple(_pattern(template) for template in WRITE_ROUTES)


def is_write_route(scope: Scope) -> bool:
    """Whether ``scope`` is a request to one of :data:`WRITE_ROUTES` (below any root path)."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return any(pattern.fullmatch(path) for pattern in _WRITES)


def _header(scope: Scope, name: bytes) -> list[bytes]:
    return [value for key, value in scope.get("headers", []) if key == name]


async def _read_body(receive: Receive) -> tuple[bytes, Receive | None]:
    """The whole body, or where reading it failed, a ``receive`` that fails the same way for
    the route (a body over the size limit then gets its 413 there, a disconnect its end)."""
    chunks = []
    while True:
        try:
            message = await receive()
        except HTTPException as exc:
            return b"", _answering(exc)
        if message["type"] == "http.disconnect":
            return b"", _answering(message)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _answering(outcome: Message | HTTPException) -> Receive:
    """A ``receive`` that raises ``outcome`` if it is an error, else returns it."""

    async def receive() -> Message:
        if isinstance(outcome, HTTPException):
            raise outcome
        return outcome

    return receive


class _Captured:
    """The route's answer, held back until it is stored."""

    def __init__(self) -> None:
        self.start: Message | None = None
        self.body: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.body.append(message.get("body", b""))

    def answer(self) -> StoredAnswer | None:
        if self.start is None:
            return None
        headers = dict(self.start.get("headers", []))
        return StoredAnswer(
            int(self.start["status"]),
            headers.get(b"content-type", b"application/json").decode("latin-1"),
            b"".join(self.body),
        )

    async def replay(self, send: Send) -> None:
        assert self.start is not None
        await send(self.start)
        await send({"type": "http.response.body", "body": b"".join(self.body)})


def _refusal(status: int, code: str, message: str) -> Response:
    return error_response(
        status, code, f"header {HEADER!r}: {message}", [{"field": HEADER, "message": message}]
    )


def _unavailable() -> Response:
    return error_response(
        503,
        "audit_unavailable",
        f"the {HEADER} record could not be read or written; retry with the same key",
    )


@dataclass(frozen=True)
class _Request:
    """One keyed request, as the table knows it."""

    store: AuditStore
    authorization: bytes
    secrets: IdempotencySecrets
    fingerprint: str

    @property
    def engine(self) -> Engine:
        return self.store.engines.write


class IdempotencyKeys:
    def __init__(self, app: ASGIApp, *, ttl_hours: Callable[[], int]) -> None:
        self.app = app
        self._ttl_hours = ttl_hours  # read per request, so overridden settings apply
        self._purged_at = float("-inf")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        values = _header(scope, HEADER.lower().encode())
        app = scope.get("app")  # the FastAPI app, set by Starlette before any middleware
        store = serving_state(app).audit if values and app and is_write_route(scope) else None
        if store is None:  # no key, not a write, or no audit store (the route answers 503)
            await self.app(scope, receive, send)
            return
        problem = key_problem(values)
        if problem is not None:
            await _refusal(422, "idempotency_key_invalid", problem)(scope, receive, send)
            return
        body, failed = await _read_body(receive)
        if failed is not None:
            await self.app(scope, failed, send)
            return
        given = False

        async def receive_body() -> Message:  # the body read here, then the client's messages
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        request = self._keyed(scope, store, key=values[0].decode("ascii"), body=body)
        await self._answer(scope, receive_body, send, request)

    @staticmethod
    def _keyed(scope: Scope, store: AuditStore, *, key: str, body: bytes) -> _Request:
        method, path = scope["method"], scope["path"]
        [authorization, *_] = _header(scope, b"authorization") or [b""]
        secrets = idempotency_secrets(
            store.pseudonym_key, authorization=authorization, method=method, path=path, key=key
        )
        query = scope.get("query_string", b"")
        fingerprint = request_fingerprint(secrets, method=method, path=path, query=query, body=body)
        return _Request(store, authorization, secrets, fingerprint)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, request: _Request) -> None:
        try:
            claimed = await run_in_threadpool(self._claim, request)
        except (SQLAlchemyError, CandorError) as exc:
            log.error("%s not claimed: %s", HEADER, exc)
            await _unavailable()(scope, receive, send)
            return
        except InvalidTag:  # the sealed answer, or a column bound to it, was changed
            log.error("a stored %s answer failed authentication: its row was altered", HEADER)
            await error_response(500, "internal_error", "internal error; see the service log")(
                scope, receive, send
            )
            return
        if claimed is None:  # an unknown caller: the route refuses it, nothing is kept
            await self.app(scope, receive, send)
        elif claimed.outcome == "claimed":
            await self._first(scope, receive, send, request)
        elif claimed.outcome == "replay":
            assert claimed.answer is not None
            answer = claimed.answer
            await Response(
                answer.body,
                status_code=answer.status,
                headers={"content-type": answer.content_type, REPLAYED: "true"},
            )(scope, receive, send)
        elif claimed.outcome == "reused":
            await _refusal(
                422,
                "idempotency_key_reused",
                "sent before with another request (method, path, query or body); use a new key",
            )(scope, receive, send)
        else:
            await _refusal(
                409,
                "idempotency_request_in_progress",
                "the first request with this key is still being answered; retry in a moment",
            )(scope, receive, send)

    def _claim(self, request: _Request) -> Claim | None:
        """Claim the key (in a worker thread: it waits on the database), for a known caller."""
        scheme, _, secret = request.authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or request.store.authenticate(secret.strip()) is None:
            return None
        now = datetime.now(UTC)
        ttl = timedelta(hours=self._ttl_hours())
        if time.monotonic() - self._purged_at >= PURGE_EVERY_S:
            self._purged_at = time.monotonic()
            purge(request.engine, before=now - ttl)
        return claim(request.engine, request.secrets, request.fingerprint, now=now, ttl=ttl)

    async def _first(self, scope: Scope, receive: Receive, send: Send, request: _Request) -> None:
        """Run the route; keep an answer under 500 before sending it, else free the key."""
        captured = _Captured()
        try:
            with answered_leads.collecting() as lead_keys:
                await self.app(scope, receive, captured.send)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await _release(request)
            raise
        answer = captured.answer()
        if answer is None or answer.status >= 500:
            await _release(request)
        else:
            try:  # stored before it is sent: a retry that crosses the answer finds it
                kept = await run_in_threadpool(
                    lambda: finish(
                        request.engine,
                        request.secrets,
                        request.fingerprint,
                        answer,
                        lead_keys=frozenset(lead_keys),
                    )
                )
                if not kept:
                    log.warning("%s answer not kept: a lead it is about was erased", HEADER)
            except SQLAlchemyError as exc:
                log.error("%s answer not stored (a retry runs again): %s", HEADER, exc)
                await _release(request)
        if captured.start is not None:
            await captured.replay(send)


async def _release(request: _Request) -> None:
    try:
        await run_in_threadpool(release, request.engine, request.secrets, request.fingerprint)
    except SQLAlchemyError as exc:  # the claim is then taken over after the pending lease
        log.error("%s claim not released: %s", HEADER, exc)
