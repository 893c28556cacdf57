"""The hottest reads, answered ahead of FastAPI's routing when the request is the plain, common case.

Dashboards poll the stats and clients page through videos and detections far more than anything
else. Going through FastAPI's routing, dependency injection and middleware costs more CPU than
the answers themselves (which PostgreSQL or the cache have ready as JSON bytes), so this layer
answers directly when, and only when:

- the API key is already verified in this process and has the read scope (the rate limit is
  counted exactly as on the normal path, and answered with the same 429), and the answer is that
  key's tenant's, as on the route;
- every query parameter is one the route knows, given once, in its plain form (digits, a known
  status), so the answer cannot differ from the route's;
- no CORS is involved (no Origin header), and, for the stats, the answer is in the memory cache.

Anything else (a new key, a validation error, a filter this layer does not parse, an empty
detections page that may be a 404) falls through to the FastAPI route, which gives the answer
and fills the caches for the next request. It sits inside the request-context layer and the host
check, so request IDs, logs, metrics (by the same route templates) and TRUSTED_HOSTS are the
same either way; it compresses as the GZip middleware does.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from app.cache import stats_key
from app.errors import DATABASE_ERRORS, ApiError, error_response_for
from app.models import VideoStatus
from app.pagination import MAX_LIMIT, json_page
from app.routers.sessions import detections_page, require_session
from app.routers.videos import videos_page
from app.schemas import BIGINT_MAX
from app.services import Services

API_KEY_HEADER = b"x-api-key"
GZIP_MINIMUM_BYTES = 1024  # the same thresholds and level as the GZip middleware in app/main.py
# Level 1, nginx's default: a 1,000-event page (130 KB) compresses 7:1 in 0.5 ms, where level 4
# gains 9.5:1 for twice the CPU and Starlette's default (9) takes ten times as long.
GZIP_LEVEL = 1
GZIP_IN_THREAD_BYTES = 128 * 1024  # bigger bodies are compressed off the event loop
ID_DIGITS_MAX = 18  # any 18-digit number fits PostgreSQL's bigint
STATUSES = frozenset(status.value for status in VideoStatus)
DETECTIONS_PREFIX, DETECTIONS_SUFFIX = "/api/v1/sessions/", "/detections"

# Errors this layer answers itself, as the route's exception handlers would.
ANSWERED_ERRORS: tuple[type[Exception], ...] = (ApiError, *DATABASE_ERRORS)

Params = dict[str, str]
Body = Callable[[], Awaitable[bytes]]  # the 200 answer's JSON; may raise ApiError
Handler = Callable[["HotPaths", Params, str, str], Body | None]  # (params, path id, tenant); None: the route's


@dataclass(frozen=True)
class RouteLabel:
    """Stands in for the matched route, so metrics label these requests with the route template."""

    path: str


def _small_int(value: str | None, maximum: int | None = None) -> int | None:
    """The value as an int if it is plain digits (and 1..maximum when given), else None."""
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > ID_DIGITS_MAX:
        return None
    number = int(value)
    return number if maximum is None or 1 <= number <= maximum else None


def _id(value: str | None) -> int | None:
    """An id as the routes take it (1 and up), else None."""
    return _small_int(value, BIGINT_MAX)


def _plain_params(query: bytes, known: frozenset[str]) -> Params | None:
    """The query parameters if each is known and given once, else None."""
    if not query:
        return {}
    try:
        pairs = parse_qsl(query.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    params = dict(pairs)
    if len(params) != len(pairs) or not known.issuperset(params):
        return None
    return params


class HotPaths:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            route = _match(scope["path"])
            if route is not None and await self._answer(scope, receive, send, *route):
                return
        await self.app(scope, receive, send)

    async def _answer(  # noqa: PLR0917 - one call site, the route's parts spelled out
        self, scope: Scope, receive: Receive, send: Send, template: str, handler: Handler, path_id: str
    ) -> bool:
        headers = dict(scope["headers"])
        if b"origin" in headers:  # CORS: the middleware on the normal path decides
            return False
        key = headers.get(API_KEY_HEADER)
        principal = self.services.keys.cached(key.decode("latin-1")) if key else None
        if principal is None or "read" not in principal.scopes:  # the route answers 401 or 403
            return False
        params = _plain_params(scope["query_string"], KNOWN_PARAMS[template])
        body = None if params is None else handler(self, params, path_id, principal.tenant)
        if body is None:
            return False
        scope["route"] = RouteLabel(template)
        # From here on the answer is this layer's, errors included, as the route would give them.
        retry_after = self.services.limiter.hit(principal.key_id)
        if retry_after is not None:
            await error_response_for(self.services.limiter.refusal(retry_after))(scope, receive, send)
            return True
        try:
            answer = await body()
        except ANSWERED_ERRORS as exc:
            await error_response_for(exc)(scope, receive, send)
            return True
        await _send_json(send, answer, b"gzip" in headers.get(b"accept-encoding", b""))
        return True

    def stats(self, params: Params, _: str, tenant: str) -> Body | None:
        project = params.get("project_id")
        project_id = _id(project)
        if project is not None and project_id is None:
            return None
        cached = self.services.stats_cache.get_local(stats_key(tenant, project_id))
        if cached is None:  # the route reads Redis or PostgreSQL and fills this cache
            return None

        async def body() -> bytes:
            return cached

        return body

    def videos(self, params: Params, _: str, tenant: str) -> Body | None:
        project, status = params.get("project_id"), params.get("status")
        project_id = _id(project)
        cursor = _small_int(params.get("cursor"))
        limit = _small_int(params.get("limit", "50"), MAX_LIMIT)
        if (
            limit is None
            or (project is not None and project_id is None)
            or (status is not None and status not in STATUSES)
            or ("cursor" in params and cursor is None)
        ):
            return None
        query = videos_page(project_id is not None, status is not None, cursor is not None)
        values = {"project_id": project_id, "status": status, "after": cursor, "tenant": tenant}

        async def body() -> bytes:
            page, _ = await json_page(self.services.reads, query, values, limit)
            return page

        return body

    def detections(self, params: Params, session: str, tenant: str) -> Body | None:
        session_id = _id(session)
        cursor = _small_int(params.get("cursor"))
        limit = _small_int(params.get("limit", "1000"), MAX_LIMIT)
        if session_id is None or limit is None or ("cursor" in params and cursor is None):
            return None
        query = detections_page(by_label=False, by_confidence=False, after=cursor is not None)
        values = {"session_id": session_id, "after": cursor, "tenant": tenant}

        async def body() -> bytes:
            page, count = await json_page(self.services.reads, query, values, limit)
            if count == 0:
                await require_session(self.services.reads, tenant, session_id)
            return page

        return body


STATS, VIDEOS, DETECTIONS = "/api/v1/stats", "/api/v1/videos", "/api/v1/sessions/{session_id}/detections"
STATIC_ROUTES: dict[str, tuple[str, Handler]] = {STATS: (STATS, HotPaths.stats), VIDEOS: (VIDEOS, HotPaths.videos)}
KNOWN_PARAMS = {
    STATS: frozenset({"project_id"}),
    VIDEOS: frozenset({"project_id", "status", "cursor", "limit"}),
    DETECTIONS: frozenset({"cursor", "limit"}),
}


def _match(path: str) -> tuple[str, Handler, str] | None:
    """(route template, handler, path parameter) for a hot path, else None."""
    static = STATIC_ROUTES.get(path)
    if static is not None:
        return (*static, "")
    if path.startswith(DETECTIONS_PREFIX) and path.endswith(DETECTIONS_SUFFIX):
        return DETECTIONS, HotPaths.detections, path[len(DETECTIONS_PREFIX) : -len(DETECTIONS_SUFFIX)]
    return None


async def _send_json(send: Send, body: bytes, accepts_gzip: bool) -> None:
    headers = [(b"content-type", b"application/json")]
    if len(body) >= GZIP_MINIMUM_BYTES:
        headers.append((b"vary", b"Accept-Encoding"))
        if accepts_gzip:
            if len(body) >= GZIP_IN_THREAD_BYTES:
                body = await anyio.to_thread.run_sync(partial(_gzip, body))
            else:
                body = _gzip(body)
            headers.append((b"content-encoding", b"gzip"))
    headers.append((b"content-length", b"%d" % len(body)))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _gzip(body: bytes) -> bytes:
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()
