"""The request-context middleware: request IDs, RED metrics, access logs, draining, last-resort 500s.

One pure ASGI middleware instead of several BaseHTTPMiddleware layers: it runs on every request,
so it must cost microseconds, and it must never buffer a streamed body.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import error_response
from app.logs import request_id_var
from app.metrics import HTTP_DURATION, HTTP_IN_FLIGHT, HTTP_REQUESTS

log = logging.getLogger("app.access")

REQUEST_ID_HEADER = b"x-request-id"
# A caller's ID is echoed only if it is short and printable, so it cannot forge log lines.
VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED_ROUTE = "unmatched"  # keeps unknown paths from creating a time series each


class Lifecycle:
    """Process state shared by the middleware, readiness and the SIGTERM handler."""

    def __init__(self) -> None:
        self.draining = False


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and VALID_REQUEST_ID.match(value):
            return str(value.decode())
    return secrets.token_hex(16)  # 128 random bits, as a UUID4 has, for a third of the CPU


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, lifecycle: Lifecycle) -> None:
        self.app = app
        self.lifecycle = lifecycle
        # The labelled metric children, looked up once per label set: prometheus_client's
        # labels() takes a lock and builds tuples on every call.
        self._counted: dict[tuple[str, str, int], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False
        extra_headers = [(b"x-request-id", request_id.encode())]
        if self.lifecycle.draining:
            # Tell keep-alive clients to reconnect elsewhere while this process drains.
            extra_headers.append((b"connection", b"close"))

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", []), *extra_headers]
            await send(message)

        HTTP_IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error")
            status = 500
            if not response_started:
                response = error_response(500, "internal_error", "an unexpected error occurred")
                await response(scope, receive, send_wrapper)
        finally:
            HTTP_IN_FLIGHT.dec()
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            self._count(method, route, status, elapsed)
            if log.isEnabledFor(logging.INFO) and route != "/metrics" and not route.startswith("/health"):
                log.info(
                    "request",
                    extra={
                        "method": method,
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "client": _client(scope),
                    },
                )
            request_id_var.reset(token)

    def _count(self, method: str, route: str, status: int, elapsed: float) -> None:
        counter = self._counted.get((method, route, status))
        if counter is None:
            counter = self._counted[method, route, status] = HTTP_REQUESTS.labels(method, route, str(status))
        counter.inc()
        histogram = self._timed.get((method, route))
        if histogram is None:
            histogram = self._timed[method, route] = HTTP_DURATION.labels(method, route)
        histogram.observe(elapsed)


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None
