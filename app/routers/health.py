"""Health and metrics endpoints of the app contract (no API key: they are for the platform)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.deps import ServicesDep
from app.errors import ApiError
from app.metrics import REGISTRY

router = APIRouter(tags=["health"])

DB_CHECK_TIMEOUT = 1.0
REDIS_CHECK_TIMEOUT = 0.5


@router.get("/health/live")
async def live() -> dict[str, str]:
    """200 while the process runs."""
    return {"status": "ok"}


@router.get("/health/ready", responses={503: {"description": "draining or PostgreSQL unavailable"}})
async def ready(services: ServicesDep) -> JSONResponse:
    """200 when this instance should receive traffic.

    PostgreSQL down or a drain in progress means 503. Redis down is reported as `degraded` but
    stays 200: the API serves without Redis, and failing every instance's readiness at once
    would turn a cache outage into a full outage.
    """
    checks = {"database": await _check_database(services), "redis": await _check_redis(services)}
    draining = services.lifecycle.draining
    ok = checks["database"] == "ok" and not draining
    status = "draining" if draining else ("ready" if ok else "unavailable")
    if ok and checks["redis"] != "ok":
        status = "degraded"
    return JSONResponse({"status": status, "checks": checks}, status_code=200 if ok else 503)


async def _check_database(services: ServicesDep) -> str:
    try:
        async with asyncio.timeout(DB_CHECK_TIMEOUT), services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return "unavailable"
    return "ok"


async def _check_redis(services: ServicesDep) -> str:
    try:
        async with asyncio.timeout(REDIS_CHECK_TIMEOUT):
            await services.redis.ping()
    except Exception:
        return "unavailable"
    return "ok"


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


@router.get("/debug/fail", include_in_schema=False)
async def fail(services: ServicesDep) -> None:
    """Answers 500 when FAULT_INJECTION is on: lets the alert tests burn the error budget."""
    if not services.settings.fault_injection:
        raise ApiError(404, "not found")
    raise ApiError(500, "fault injected on purpose (FAULT_INJECTION is on)", code="fault_injected")
