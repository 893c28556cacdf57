"""One JSON error shape for every error the API returns.

{"error": {"code": "not_found", "message": "...", "request_id": "...", "details": [...]}}
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.logs import request_id_var

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class ApiError(Exception):
    """Raised by handlers for an expected failure with a specific status and code."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        details: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message
        self.details = details
        self.headers = headers


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message, "request_id": request_id_var.get()}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


# What the database layers raise when PostgreSQL cannot answer (or refuses the data); asyncpg's own
# errors come from the raw read pool (app/readpool.py).
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    DBAPIError,
    PoolTimeoutError,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


def error_response_for(exc: Exception) -> JSONResponse:
    """The answer to an ApiError or a database error, for code that runs outside FastAPI's handlers."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
    # Constraint and data errors are the client's; anything else from the driver or the pool
    # means PostgreSQL cannot answer now: a quick 503, never a hang.
    if isinstance(exc, IntegrityError | asyncpg.IntegrityConstraintViolationError):
        return error_response(409, "conflict", "the request conflicts with existing data")
    if isinstance(exc, DataError | asyncpg.DataError):
        return error_response(422, "validation_error", "a value is out of range for its field")
    log.warning("database unavailable: %s", exc.__class__.__name__)
    return error_response(
        503,
        "database_unavailable",
        "the database is unavailable; retry shortly",
        headers={"Retry-After": "2"},
    )


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response_for(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "validation_error", "the request is not valid", _validation_details(exc))

    async def database_error(_: Request, exc: Exception) -> JSONResponse:
        return error_response_for(exc)

    for exc_type in DATABASE_ERRORS:
        app.add_exception_handler(exc_type, database_error)

    # Run by FastAPI's server-error layer, which then re-raises for the request-context layer to log.
    @app.exception_handler(Exception)
    async def internal_error(_: Request, __: Exception) -> JSONResponse:
        return error_response(500, "internal_error", "an unexpected error occurred")

    @app.exception_handler(RedisError)
    async def redis_unavailable(_: Request, exc: RedisError) -> JSONResponse:
        log.warning("redis unavailable: %s", exc.__class__.__name__)
        return error_response(503, "cache_unavailable", "a dependency is unavailable; retry shortly")
