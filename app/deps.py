"""Shared dependencies of the route handlers, as Annotated aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.ext.asyncio import AsyncSession

from app.apikeys import Principal
from app.errors import ApiError
from app.pagination import CURSOR_PATTERN
from app.schemas import BIGINT_MAX, NO_NUL
from app.services import Services

# Ids are PostgreSQL bigints from 1 up: anything else is refused as invalid input (422).
IdPath = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
IdFilter = Annotated[int | None, Query(ge=1, le=BIGINT_MAX)]
TextFilter = Annotated[str | None, Query(pattern=NO_NUL, max_length=200)]
CursorParam = Annotated[str | None, Query(pattern=CURSOR_PATTERN, description="The `next_cursor` of the previous page")]


async def get_services(request: Request) -> Services:  # async: sync dependencies cost a thread hop
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    async with services.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


# Declared as the OpenAPI security scheme "ApiKey"; checked by require_api_key, not by FastAPI.
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKey",
    description="An API key made with `python -m app create-key`",
    auto_error=False,
)


async def require_api_key(
    request: Request, services: ServicesDep, x_api_key: Annotated[str | None, Security(API_KEY_HEADER)]
) -> Principal:
    client = request.client.host if request.client else "unknown"
    principal = services.keys.cached(x_api_key) if x_api_key else None
    if principal is None:
        # Guessing keys costs a database lookup each: a client that keeps failing waits instead.
        retry_after = services.auth_failures.exhausted(client)
        if retry_after is not None:
            raise ApiError(
                429, "too many failed authentications from this address", headers={"Retry-After": str(retry_after)}
            )
        if x_api_key:
            principal = await services.keys.verify(services.sessionmaker, x_api_key)
    if principal is None:
        services.auth_failures.hit(client)
        message = "invalid or revoked API key" if x_api_key else "missing API key: send it in the X-API-Key header"
        raise ApiError(401, message, headers={"WWW-Authenticate": "ApiKey"})
    retry_after = services.limiter.hit(principal.key_id)
    if retry_after is not None:
        raise services.limiter.refusal(retry_after)
    return principal


def _scope(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def require(principal: Annotated[Principal, Depends(require_api_key)]) -> Principal:
        if scope not in principal.scopes:
            raise ApiError(403, f"this API key lacks the {scope!r} scope")
        return principal

    return require


# The key of the request, with the scope the operation needs (app/models.py SCOPES).
ReadKey = Annotated[Principal, Depends(_scope("read"))]
WriteKey = Annotated[Principal, Depends(_scope("write"))]
AdminKey = Annotated[Principal, Depends(_scope("admin"))]
