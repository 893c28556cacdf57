"""One JSON error shape for every error the API returns.

{"error": {"code": "not_found", "message": "...", "request_id": "...", "details": [...]}}
"""

from __future__ import annotations

import logging
import re
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
from app.schemas import ErrorBody

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


WHEN = {
    400: "The request body is malformed (not JSON, or a broken multipart form)",
    401: "No API key, or an unknown or revoked one",
    403: "The API key lacks the scope this operation needs",
    404: "No such object (or not one this key's tenant owns)",
    409: "The request conflicts with the object's state",
    413: "The request body is larger than the operation accepts",
    415: "The request body's media type (or the uploaded video) is not accepted",
    422: "A parameter or a body field is not valid",
    429: "Too many requests from this key or address; retry after Retry-After seconds",
    500: "An unexpected error (a bug); the request ID finds it in the logs",
    503: "A dependency is unavailable; retry after Retry-After seconds",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each with the API's error body."""
    return {
        status: {"model": ErrorBody, "description": WHEN[status]}
        | ({"headers": RETRY_AFTER} if status in {429, 503} else {})
        for status in statuses
    }


def links(status: int, **targets: tuple[str, str, dict[str, str]]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI links from a `status` answer: name -> (method, path, {parameter: expression})."""
    return {
        status: {
            "links": {
                name: {
                    "operationRef": "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method,
                    "parameters": parameters,
                }
                for name, (method, path, parameters) in targets.items()
            }
        }
    }


# What every operation behind an API key can answer.
KEYED_ERRORS = (401, 403, 422, 429, 500, 503)
# What an operation that takes a JSON body can answer besides.
BODY_ERRORS = (400, 413)


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


# What the database layers raise: SQLAlchemy wraps the driver's errors, asyncpg's own come from
# the raw read pool (app/readpool.py), and a refused or timed-out connection surfaces as the OS's
# ConnectionError or TimeoutError. Other OSErrors (a file missing from storage) are not the database's.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    DBAPIError,
    PoolTimeoutError,
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
# SQLSTATE classes that mean PostgreSQL cannot serve now: connection exception, insufficient
# resources, operator intervention (shutdown, statement timeout), system error.
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})


def _driver_error(exc: Exception) -> Exception:
    """The asyncpg error under SQLAlchemy's wrapping (the adapter keeps it as the cause)."""
    if isinstance(exc, DBAPIError):
        cause = exc.orig.__cause__ if exc.orig is not None else None
        if isinstance(cause, Exception):
            return cause
        return exc.orig if isinstance(exc.orig, Exception) else exc
    return exc


def _database_status(exc: Exception) -> int:
    """409, 422, 500 or 503 for an error from the database layers, by its cause."""
    driver = _driver_error(exc)
    sqlstate = getattr(driver, "sqlstate", None)
    if isinstance(exc, IntegrityError) or (isinstance(sqlstate, str) and sqlstate.startswith("23")):
        return 409
    # DataError: refused by the driver before it reached PostgreSQL (an int out of its type's range).
    if isinstance(exc, DataError | asyncpg.DataError) or isinstance(driver, asyncpg.DataError):
        return 422
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        if sqlstate.startswith("22"):
            return 422
        return 503 if sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES else 500
    return 503  # no answer from PostgreSQL at all: refused, reset, timed out, pool exhausted


def error_response_for(exc: Exception) -> JSONResponse:
    """The answer to an ApiError or a database error, for code that runs outside FastAPI's handlers."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
    status = _database_status(exc)
    if status == 409:
        return error_response(409, "conflict", "the request conflicts with existing data")
    if status == 422:
        return error_response(422, "validation_error", "a value is out of range for its field")
    if status == 500:
        log.error("database error: %s", exc, exc_info=exc)
        return error_response(500, "internal_error", "an unexpected error occurred")
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


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (app.state.route_methods, set by create_app)."""
    path = request.url.path
    route_methods: list[tuple[re.Pattern[str], frozenset[str]]] = getattr(request.app.state, "route_methods", [])
    return sorted({method for regex, methods in route_methods if regex.match(path) for method in methods})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response_for(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = CODES.get(exc.status_code, "error")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # The router names the methods of the first route matching the path; list them all.
            headers = {"Allow": ", ".join(_allowed_methods(request))}
        return error_response(exc.status_code, code, str(exc.detail), headers=headers)

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
