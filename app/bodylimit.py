"""The JSON body limit: a body larger than JSON_BODY_MAX is refused with 413 before it is parsed.

Uploads (multipart/form-data) are exempt: they stream to disk under their own limit
(MAX_UPLOAD_BYTES, app/uploads.py). A declared Content-Length over the limit is answered at
once; a chunked body is cut off as soon as it passes the limit, by raising the 413 from `receive`
while the route reads it (FastAPI lets HTTP exceptions from there reach the error handlers).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_response

MULTIPART = "multipart/form-data"


def _too_large(limit: int) -> str:
    return f"the request body exceeds the limit of {limit} bytes"


class JsonBodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in {"GET", "HEAD", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if headers.get("content-type", "").lower().startswith(MULTIPART):
            await self.app(scope, receive, send)
            return
        declared = headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
            await error_response(413, "payload_too_large", _too_large(self.max_bytes))(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, _too_large(self.max_bytes))
            return message

        await self.app(scope, limited_receive, send)
