"""The baseline: a bare ASGI app answering `{}`, served with the API's own uvicorn settings."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

BODY = b"{}"
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"2")]


async def app(scope: Scope, receive: Receive, send: Send) -> None:  # noqa: ARG001 - ASGI signature
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
