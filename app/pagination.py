"""Keyset pagination with the page serialized to JSON by PostgreSQL.

Big pages (1,000 detections) spend most of their time turning rows into objects and objects into
JSON. PostgreSQL's json_agg does that in C, next to the data, and the API passes the text
through: no ORM hydration, no per-row Python. The cursor is the last id of the page (opaque to
clients), so every page is an index range scan however deep the client goes.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from sqlalchemy import Select, Text, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ApiError

MAX_LIMIT = 1000


def parse_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 19:
        raise ApiError(422, "cursor is not valid: pass the next_cursor of a previous page")
    return int(cursor)


async def json_page(session: AsyncSession, rows: Select[Any], limit: int, descending: bool) -> Response:
    """Run `rows` (already filtered, ordered by id and limited) and answer one page as JSON."""
    page = rows.subquery("t")
    order = page.c.id.desc() if descending else page.c.id.asc()
    statement = select(
        cast(
            func.coalesce(func.json_agg(aggregate_order_by(literal_column("t"), order)), literal_column("'[]'")),
            Text,
        ),
        func.count(),
        func.min(page.c.id) if descending else func.max(page.c.id),
    ).select_from(page)
    items, count, last_id = (await session.execute(statement)).one()
    next_cursor = f'"{last_id}"' if count == limit else "null"
    body = f'{{"items":{items},"next_cursor":{next_cursor}}}'
    return Response(body, media_type="application/json")
