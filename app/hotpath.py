"""The dashboard stats, answered from memory ahead of routing when everything needed is at hand.

Dashboards poll the stats endpoint far more than anything else, and its answer is usually in the
in-memory cache tier. Going through FastAPI's routing and dependency injection would cost several
times what the answer itself costs, so this middleware answers directly when, and only when, the
API key is already verified in this process and the stats are in memory; the rate limit is
counted exactly as on the normal path. Anything else (a new key, a cache miss, another query)
falls through to the normal route, which fills both caches for the next request. It sits inside
the request-context middleware, so request IDs, logs and metrics are the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from app.cache import stats_key
from app.errors import error_response
from app.services import Services

STATS_PATH = "/api/v1/stats"
API_KEY_HEADER = b"x-api-key"
NO_FILTER = -1  # the query selected no project
JSON_HEADERS = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class RouteLabel:
    """Stands in for the matched route, so metrics label these requests with the route template."""

    path: str


STATS_ROUTE = RouteLabel(STATS_PATH)


def _project_filter(query: bytes) -> int | None:
    """NO_FILTER for no query, the id for `project_id=<digits>`, None for anything else."""
    if not query:
        return NO_FILTER
    name, _, value = query.partition(b"=")
    if name == b"project_id" and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def _api_key(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == API_KEY_HEADER:
            return str(value.decode("latin-1"))
    return None


class StatsHotPath:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == STATS_PATH and scope["method"] == "GET":
            handled = await self._answer(scope, receive, send)
            if handled:
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> bool:
        project = _project_filter(scope["query_string"])
        key = _api_key(scope)
        if project is None or key is None:
            return False
        key_id = self.services.keys.cached_id(key)
        if key_id is None:
            return False
        body = self.services.stats_cache.get_local(stats_key(None if project == NO_FILTER else project))
        if body is None:
            return False
        scope["route"] = STATS_ROUTE
        retry_after = self.services.limiter.hit(key_id)
        if retry_after is not None:
            refusal = self.services.limiter.refusal(retry_after)
            response = error_response(refusal.status, refusal.code, refusal.message, headers=refusal.headers)
            await response(scope, receive, send)
            return True
        headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True
