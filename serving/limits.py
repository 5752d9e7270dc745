"""Refuse request bodies over the configured size before they are parsed (pure ASGI)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: Callable[[], int]) -> None:
        self.app = app
        self._max_bytes = max_bytes  # read per request, so overridden settings apply

    @property
    def max_bytes(self) -> int:
        return self._max_bytes()

    def _message(self) -> str:
        return f"request body is larger than {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_json(
                send,
                413,
                {"error": {"code": "body_too_large", "message": self._message(), "details": []}},
            )
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # chunked bodies have no content-length
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, limited, send)


async def send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    """Answer from a middleware (outside the app's handlers) with a JSON body."""
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
