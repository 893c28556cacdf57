"""Keyset pagination with the page serialized to JSON by PostgreSQL.

Big pages (1,000 detections) spend most of their time turning rows into objects and objects into
JSON. PostgreSQL's json_agg does that in C, next to the data, and the API passes the text
through: no ORM hydration, no per-row Python. The cursor is the last id of the page (opaque to
clients), so every page is an index range scan however deep the client goes.

Statements are built once per combination of filters (the routers cache them with lru_cache) with
bound parameters, because building and compiling SQLAlchemy constructs per request costs more
CPU than PostgreSQL spends answering them.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from sqlalchemy import Select, Text, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection

from app.errors import ApiError

MAX_LIMIT = 1000


def parse_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 18:
        raise ApiError(422, "cursor is not valid: pass the next_cursor of a previous page")
    return int(cursor)


def page_statement(rows: Select[Any], descending: bool) -> Select[Any]:
    """Wrap `rows` (filtered, ordered by id, limited) into one row: the JSON array, its size, the last id."""
    page = rows.subquery("t")
    order = page.c.id.desc() if descending else page.c.id.asc()
    items = func.coalesce(func.json_agg(aggregate_order_by(literal_column("t"), order)), literal_column("'[]'"))
    last_id = func.min(page.c.id) if descending else func.max(page.c.id)
    return select(cast(items, Text), func.count(), last_id).select_from(page)


async def json_page(
    connection: AsyncConnection, statement: Select[Any], params: dict[str, Any], limit: int
) -> tuple[Response, int]:
    """Run a `page_statement`; answer `{"items": [...], "next_cursor": ...}` and the item count."""
    items, count, last_id = (await connection.execute(statement, params | {"limit": limit})).one()
    next_cursor = f'"{last_id}"' if count == limit else "null"
    return Response(f'{{"items":{items},"next_cursor":{next_cursor}}}', media_type="application/json"), count
