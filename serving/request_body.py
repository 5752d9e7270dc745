"""Refuse ambiguous or malformed requests before a route reads them (pure ASGI).

A JSON body must be UTF-8 JSON, sent as ``application/json`` with no content coding, not nested
past the parser's recursion limit, with no key repeated in an object, no lone UTF-16 surrogate
in a key or a string (they cannot be stored, hashed or shown), and no integer beyond
:data:`MAX_INT_DIGITS` digits. A query parameter may be given once. Each refusal names the field
and the problem, never the submitted value, since a body may carry a lead's personal data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from candor.models.errors import ErrorDetail
from candor.serving.errors import detail_at
from candor.serving.limits import send_json

MAX_DEPTH = 64  # the walk looks no deeper: the deepest request (covariates) nests 4 levels
MAX_INT_DIGITS = 4300  # Python's own limit of int(text); the fields' checks refuse far fewer
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
# a lone surrogate can reach a parsed string only through a \uD800-\uDFFF escape: strict UTF-8
# decoding refuses it as raw bytes, so a body without such an escape needs no walk
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abAB]|\\u[dD][c-fC-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class RequestRefused(Exception):
    """Why a request was refused before any route read it: status, code and the field."""

    def __init__(self, status: int, code: str, detail: ErrorDetail) -> None:
        super().__init__(detail.message)
        self.status, self.code, self.detail = status, code, detail

    def body(self) -> dict[str, Any]:
        message = (
            f"field {self.detail.field!r}: {self.detail.message}"
            if self.detail.lead_index is None
            else f"lead {self.detail.lead_index}, field {self.detail.field!r}: "
            f"{self.detail.message}"
        )
        return {
            "error": {"code": self.code, "message": message, "details": [self.detail.to_dict()]}
        }


def check_query(query_string: bytes) -> None:
    """Each query parameter at most once: a repeated one would silently take one value."""
    seen: set[str] = set()
    for name, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name in seen:
            raise RequestRefused(
                422,
                "input_invalid",
                ErrorDetail(name, "query parameter given more than once; give it once"),
            )
        seen.add(name)


def check_headers(headers: dict[bytes, bytes]) -> None:
    """A body is JSON, sent uncompressed."""
    coding = headers.get(b"content-encoding", b"identity").strip().lower()
    if coding not in (b"", b"identity"):
        raise RequestRefused(
            415,
            "unsupported_media_type",
            ErrorDetail("Content-Encoding", "not accepted; send the body uncompressed (identity)"),
        )
    media = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    if media != b"application/json" and not (
        media.startswith(b"application/") and media.endswith(b"+json")
    ):
        raise RequestRefused(
            415,
            "unsupported_media_type",
            ErrorDetail("Content-Type", "the body must be JSON, sent as application/json"),
        )


class _Object(dict[str, Any]):
    """A parsed JSON object that remembers a key it was given twice."""

    repeated: str | None = None


class _HugeInteger:
    """Stands for an integer past Python's limit, so that the walk can say where it is."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


class _Parse:
    """json.loads' hooks for one body, and whether they met something the walk must locate."""

    def __init__(self) -> None:
        self.suspect = False

    def object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = _Object(pairs)
        if len(obj) != len(pairs):
            seen: set[str] = set()
            obj.repeated = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
            self.suspect = True
        return obj

    def integer(self, text: str) -> int | _HugeInteger:
        digits = len(text.lstrip("-"))
        if digits > MAX_INT_DIGITS:
            self.suspect = True
            return _HugeInteger(digits)
        return int(text)


def parse_json_body(raw: bytes) -> Any:
    """The body parsed, or :class:`RequestRefused` naming where it is malformed."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestRefused(
            422, "input_invalid", ErrorDetail("body", f"not valid UTF-8 at byte {exc.start}")
        ) from None
    try:
        hooks = _Parse()
        parsed = json.loads(text, object_pairs_hook=hooks.object, parse_int=hooks.integer)
    except RecursionError:
        raise _too_deep(()) from None
    except json.JSONDecodeError as exc:
        raise RequestRefused(
            422, "input_invalid", ErrorDetail("body", f"invalid JSON at character {exc.pos}")
        ) from None
    strings = _SURROGATE_ESCAPE.search(raw) is not None
    if hooks.suspect or strings:  # a walk only when there is something to find
        _check_tree(parsed, strings=strings)
    return parsed


def _too_deep(loc: tuple[Any, ...]) -> RequestRefused:
    return RequestRefused(
        422, "input_invalid", detail_at(loc, "nested too deep (no request nests over 4 levels)")
    )


def _check_tree(parsed: Any, *, strings: bool) -> None:
    """Depth, repeated keys and (when the body holds such escapes) lone surrogates."""
    for loc, node in _walk(parsed, ()):
        if len(loc) > MAX_DEPTH:
            raise _too_deep(loc[:MAX_DEPTH])
        if isinstance(node, _Object) and node.repeated is not None:
            raise RequestRefused(
                422,
                "input_invalid",
                detail_at((*loc, node.repeated), "key given more than once in one object"),
            )
        if isinstance(node, _HugeInteger):
            raise RequestRefused(
                422,
                "input_invalid",
                detail_at(loc, f"an integer of {node.digits} digits (at most {MAX_INT_DIGITS})"),
            )
        if not strings:
            continue
        if isinstance(node, str) and _SURROGATE.search(node):
            raise RequestRefused(422, "input_invalid", detail_at(loc, _SURROGATE_MESSAGE))
        if isinstance(node, dict):
            for key in node:
                if _SURROGATE.search(key):
                    raise RequestRefused(
                        422,
                        "input_invalid",
                        detail_at(loc, "a key holds a lone UTF-16 surrogate (invalid Unicode)"),
                    )


_SURROGATE_MESSAGE = "holds a lone UTF-16 surrogate (invalid Unicode)"


def _walk(node: Any, loc: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every node with its location, parents first; stops descending past MAX_DEPTH."""
    stack = [(loc, node)]
    while stack:
        loc, node = stack.pop()
        yield loc, node
        if len(loc) > MAX_DEPTH:
            continue
        if isinstance(node, dict):
            stack.extend(((*loc, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*loc, i), v) for i, v in enumerate(node))


class StrictRequests:
    """The checks of this module around an app: a refused request never reaches a route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_query(scope.get("query_string", b""))
            if scope["method"] not in _WITH_BODY:
                await self.app(scope, receive, send)
                return
            raw, more = await _read_body(receive)
            if raw:
                check_headers(dict(scope.get("headers", [])))
                parse_json_body(raw)
        except RequestRefused as refused:
            await send_json(send, refused.status, refused.body())
            return
        except HTTPException as exc:  # the body-size limit, raised while the body is read
            error = {"code": "body_too_large", "message": str(exc.detail), "details": []}
            await send_json(send, exc.status_code, {"error": error})
            return
        await self.app(scope, _replay(raw, more, receive), send)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body, and any non-body message received while reading it (a disconnect)."""
    chunks: list[bytes] = []
    others: list[Message] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            others.append(message)
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), others


def _replay(raw: bytes, others: list[Message], receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        if others:
            return others.pop(0)
        return await receive()

    return replay
