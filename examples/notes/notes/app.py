"""The HTTP API: notes CRUD behind a bearer token, health probes and Prometheus metrics."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notes import db
from notes.settings import Settings

log = logging.getLogger("notes")

LIVE, READY, METRICS = "/livez", "/readyz", "/internal/metrics"
MAX_BODY_BYTES = 64 * 1024
MAX_TITLE, MAX_TEXT = 200, 10_000
MAX_PAGE, DEFAULT_PAGE = 100, 20
MAX_ID = 2**63 - 1  # PostgreSQL bigint
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED_ROUTE = "unmatched"  # unknown paths share one series instead of making one each
# The database is away or not migrated yet: the caller may retry, so 503 rather than 500.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.UndefinedTableError,
)


class ApiError(HTTPException):
    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(status, message)
        self.code = code
        self.fields = fields or {}


def route_template(path: str) -> str:
    """The route as the SLO and dashboards name it: /notes/{note_id}, without the convertor."""
    return re.sub(r":\w+}", "}", path)


def error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status, headers=headers)


class Lifecycle:
    """Shared by readiness, the middleware and the SIGTERM handler."""

    def __init__(self) -> None:
        self.draining = False


class Metrics:
    """The app contract's RED metrics, in a registry of this app's own."""

    def __init__(self, routes: list[Route]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests", "HTTP requests answered, by route template", ["method", "route", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.duration = Histogram(
            "http_request_duration_seconds", "Time to answer an HTTP request, by route template",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        # Series at zero from the start, so that rate() sees a route's first error.
        for route in routes:
            for method in sorted((route.methods or set()) - {"HEAD"}):
                for status in ("500", "503"):
                    self.requests.labels(method, route_template(route.path), status)
                self.duration.labels(method, route_template(route.path))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)


class RequestMiddleware:
    """Counts and times every request by route template, and answers 500 as JSON when all else failed."""

    def __init__(self, app: ASGIApp, metrics: Metrics, lifecycle: Lifecycle) -> None:
        self.app, self.metrics, self.lifecycle = app, metrics, lifecycle
        self.templates: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, responded = 500, False

        async def send_counted(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                if self.lifecycle.draining:  # keep-alive clients reconnect to a process that stays
                    message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            status = 500
            if not responded:
                await error(500, "internal_error", "an unexpected error occurred")(scope, receive, send)
        finally:
            path = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            route = self.templates.get(path) or self.templates.setdefault(path, route_template(path))
            elapsed = time.perf_counter() - started
            self.metrics.observe(scope["method"], route, status, elapsed)
            if route not in (LIVE, READY, METRICS):
                log.info("%s %s %d %.1fms", scope["method"], route, status, elapsed * 1000)


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


def _authorize(request: Request) -> None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    token: str = request.app.state.settings.token
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")


async def _json_body(request: Request) -> Any:
    length = request.headers.get("content-length", "")
    if length.isdecimal() and (len(length) > 9 or int(length) > MAX_BODY_BYTES):
        raise ApiError(413, "body_too_large", f"the body is limited to {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, "body_too_large", f"the body is limited to {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, RecursionError):  # RecursionError: absurdly nested arrays
        raise ApiError(422, "invalid_json", "the body is not valid JSON") from None


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(data: dict[str, Any], name: str, limit: int, *, required: bool) -> tuple[str, str | None]:
    """The field's value and, when it is unusable, why."""
    value = data.get(name, None if required else "")
    if not isinstance(value, str):
        return "", "required, a string" if value is None else "must be a string"
    if required and not value.strip():
        return "", "must not be blank"
    if len(value) > limit:
        return "", f"at most {limit} characters"
    # PostgreSQL text holds neither NUL nor a lone surrogate (which JSON escapes can spell).
    if "\x00" in value or not _encodable(value):
        return "", "must be text without NUL characters or lone surrogates"
    return value, None


def _note_input(data: Any) -> tuple[str, str]:
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_body", "the body must be a JSON object with title and body")
    fields = {name: "unknown field" for name in data if name not in ("title", "body")}
    title, problem = _text(data, "title", MAX_TITLE, required=True)
    if problem:
        fields["title"] = problem
    body, problem = _text(data, "body", MAX_TEXT, required=False)
    if problem:
        fields["body"] = problem
    if fields:
        raise ApiError(422, "invalid_body", "the note is not valid", fields)
    return title, body


def _query_int(request: Request, name: str, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    # The length first: int() refuses strings of thousands of digits with an error of its own.
    if not raw.isdecimal() or len(raw) > len(str(high)) or not low <= int(raw) <= high:
        raise ApiError(422, "invalid_query", f"{name} must be a whole number from {low} to {high}", {name: raw[:50]})
    return int(raw)


async def live(_request: Request) -> Response:
    return JSONResponse({"status": "live"})


async def ready(request: Request) -> Response:
    if request.app.state.lifecycle.draining:
        return JSONResponse({"status": "draining"}, status_code=503)
    try:
        await db.ping(_pool(request))
    except Exception as exc:  # whatever fails the check (a refused password too) means not ready
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ready"})


async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def create_note(request: Request) -> Response:
    _authorize(request)
    title, body = _note_input(await _json_body(request))
    note = await db.insert(_pool(request), title, body)
    return JSONResponse(note, status_code=201, headers={"Location": f"/notes/{note['id']}"})


async def list_notes(request: Request) -> Response:
    _authorize(request)
    limit = _query_int(request, "limit", 1, MAX_PAGE) or DEFAULT_PAGE
    before = _query_int(request, "before", 1, MAX_ID)
    items = await db.page(_pool(request), limit, before)
    # A full page may have more after it; the last id is where the next one starts.
    return JSONResponse({"items": items, "next": items[-1]["id"] if len(items) == limit else None})


def _note_id(request: Request) -> int:
    note_id: int = request.path_params["note_id"]
    if not 1 <= note_id <= MAX_ID:
        raise ApiError(404, "not_found", "no such note")
    return note_id


async def get_note(request: Request) -> Response:
    _authorize(request)
    note = await db.fetch(_pool(request), _note_id(request))
    if note is None:
        raise ApiError(404, "not_found", "no such note")
    return JSONResponse(note)


async def delete_note(request: Request) -> Response:
    _authorize(request)
    if not await db.delete(_pool(request), _note_id(request)):
        raise ApiError(404, "not_found", "no such note")
    return Response(status_code=204)


async def on_http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if isinstance(exc, ApiError):
        return error(exc.status_code, exc.code, exc.detail, **({"fields": exc.fields} if exc.fields else {}))
    codes = {404: "not_found", 405: "method_not_allowed"}
    return error(exc.status_code, codes.get(exc.status_code, "http_error"), exc.detail)


async def on_database_unavailable(_request: Request, exc: Exception) -> Response:
    log.warning("database unavailable: %s", type(exc).__name__)
    return error(503, "database_unavailable", "the database does not answer; retry shortly")


def create_app(settings: Settings) -> Starlette:
    routes = [
        Route(LIVE, live),
        Route(READY, ready),
        Route(METRICS, metrics),
        Route("/notes", create_note, methods=["POST"]),
        Route("/notes", list_notes, methods=["GET"]),
        Route("/notes/{note_id:int}", get_note, methods=["GET"]),
        Route("/notes/{note_id:int}", delete_note, methods=["DELETE"]),
    ]
    lifecycle, app_metrics = Lifecycle(), Metrics(routes)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await db.create_pool(settings.dsn, settings.pool_size)
        try:
            yield
        finally:
            await app.state.pool.close()

    handlers: dict[Any, Any] = {HTTPException: on_http_error}
    handlers |= dict.fromkeys(DATABASE_UNAVAILABLE, on_database_unavailable)
    app = Starlette(
        routes=routes,
        middleware=[Middleware(RequestMiddleware, metrics=app_metrics, lifecycle=lifecycle)],
        exception_handlers=handlers,
        lifespan=lifespan,
    )
    app.state.settings, app.state.lifecycle, app.state.metrics = settings, lifecycle, app_metrics
    return app
