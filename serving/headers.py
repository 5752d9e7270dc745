"""Protocol headers on every API answer (pure ASGI), errors and middleware refusals included.

Answers under /v1/ and /healthz hold scores, audit records and reviewers' decisions: no cache
(a browser's, a proxy's) may keep them, and no browser may guess their type. A route that
chose its own ``Cache-Control`` (the public model card, revalidated by its ETag) keeps it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def is_api_path(path: str) -> bool:
    return path == "/healthz" or path.startswith("/v1/")


class ApiHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in API_HEADERS.items():
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
