"""Builds the FastAPI application and wires its parts; no behaviour of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp

from app.bodylimit import JsonBodyLimitMiddleware
from app.errors import install_error_handlers
from app.hosts import TrustedHostsMiddleware
from app.hotpath import GZIP_LEVEL, GZIP_MINIMUM_BYTES, HotPaths
from app.metrics import APP_INFO, REGISTRY, PoolCollector, precreate_request_series, set_build_info
from app.middleware import RequestContextMiddleware
from app.routers import health, projects, sessions, stats, videos
from app.schemas import JSON_BODY_MAX
from app.services import Services
from app.settings import Settings, get_settings


class SlipwayAPI(FastAPI):
    """FastAPI with the request-context layer, the host check and the hot paths outside its own stack.

    FastAPI wraps user middleware in its own layers (server errors, telemetry, body limits) that
    every request would pay for; the hot paths answer without them. Outermost first: request
    IDs, metrics and logs for every response; TRUSTED_HOSTS; the hot paths; then FastAPI's stack
    (with CORS and GZip) and the routes. Unhandled errors get their JSON 500 from FastAPI's
    server-error layer (the handler installed by install_error_handlers) and are logged once by
    the request-context layer.
    """

    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = HotPaths(super().build_middleware_stack(), self.services)
        trusted_hosts = self.services.settings.trusted_hosts
        if trusted_hosts != ["*"]:
            app = TrustedHostsMiddleware(app, allowed_hosts=trusted_hosts)
        return RequestContextMiddleware(app, lifecycle=self.services.lifecycle)


def create_app(settings: Settings | None = None) -> SlipwayAPI:
    settings = settings or get_settings()
    services = Services.create(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await services.start()
        pool = services.engine.pool
        reads = services.reads
        collector = PoolCollector(
            lambda: pool.checkedout() + reads.checked_out,  # type: ignore[attr-defined]
            lambda: pool.size() + reads.size,  # type: ignore[attr-defined]
        )
        REGISTRY.register(collector)
        APP_INFO.labels(settings.app_version).set(1)
        set_build_info(settings.slipway_version, settings.slipway_slot)
        limiters = [services.limiter, services.auth_failures]
        stopping = asyncio.Event()
        background = [asyncio.create_task(limiter.run()) for limiter in limiters]
        background.append(asyncio.create_task(services.keys.listen(services.redis, stopping)))
        try:
            yield
        finally:
            stopping.set()
            for limiter in limiters:
                limiter.stop()
            # The last flush finishes before the Redis client closes under it.
            _done, running = await asyncio.wait(background, timeout=2)
            for task in running:
                task.cancel()
            REGISTRY.unregister(collector)
            await services.close()

    app = SlipwayAPI(
        services,
        title="Slipway reference API",
        version=settings.app_version,
        description="Video analysis: projects, videos, test sessions, detection events, dashboard stats.",
        lifespan=lifespan,
        # The kit observes the API through Prometheus and JSON logs. FastAPI's native
        # OpenTelemetry support would otherwise look the global providers up (environment reads)
        # on every request: about 4% of a cached stats request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url="/docs" if settings.app_env != "production" else None,
        redoc_url=None,
        # A redirect to the slash-less path would be built from the request's Host header: an
        # open redirect behind any proxy that passes Host through. Paths are exact instead.
        redirect_slashes=False,
    )
    app.state.services = services
    install_error_handlers(app)
    routers = [module.router for module in (health, projects, videos, sessions, stats)]
    for router in routers:
        app.include_router(router)
    routes = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
    precreate_request_series(
        (method, route.path, route.status_code or 200) for route in routes for method in sorted(route.methods or ())
    )
    app.state.route_methods = [(route.path_regex, frozenset(route.methods or ())) for route in routes]

    app.add_middleware(JsonBodyLimitMiddleware, max_bytes=JSON_BODY_MAX)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    return app
