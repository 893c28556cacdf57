"""Keyset pagination with the page serialized to JSON by PostgreSQL.

Big pages (1,000 detections) spend most of their time turning rows into objects and objects into
JSON. PostgreSQL's json_agg does that in C, next to the data, and hands the API the page as UTF-8
bytes, which it passes through: no ORM hydration, no per-row Python, not even a decode. The
cursor is the last id of the page (opaque to clients), so every page is an index range scan
however deep the client goes.

Statements are built with SQLAlchemy (so they follow the models) and compiled to SQL text once
per combination of filters (the routers cache them with lru_cache); requests run the text on the
raw read pool (app/readpool.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, DateTime, LargeBinary, Select, Text, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import Dialect

from app.errors import ApiError
from app.readpool import ReadPool

MAX_LIMIT = 1000
ASYNCPG: Dialect = asyncpg_dialect()  # type: ignore[no-untyped-call]
CURSOR_DIGITS_MAX = 18  # any 18-digit number fits PostgreSQL's bigint
CURSOR_PATTERN = r"^[0-9]{1,18}$"
# The API's one timestamp format (app/schemas.py TIMESTAMP_FORMAT), written by PostgreSQL.
TIMESTAMP_SQL_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def json_columns(columns: Iterable[ColumnElement[Any]]) -> list[ColumnElement[Any]]:
    """The columns as the pages carry them: timestamps as UTC text in the API's format."""
    return [
        func.to_char(func.timezone(literal_column("'UTC'"), column), literal_column(f"'{TIMESTAMP_SQL_FORMAT}'")).label(
            column.key
        )
        if isinstance(column.type, DateTime)
        else column
        for column in columns
    ]


def parse_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > CURSOR_DIGITS_MAX:  # not "²" or "٣"
        raise ApiError(422, "cursor is not valid: pass the next_cursor of a previous page")
    return int(cursor)


@dataclass(frozen=True)
class CompiledQuery:
    """SQL text for asyncpg ($1, $2, ...) and the names of its parameters, in order."""

    sql: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, statement: Select[Any]) -> CompiledQuery:
        compiled = statement.compile(dialect=ASYNCPG)
        return cls(compiled.string, tuple(compiled.positiontup or ()))

    def args(self, params: dict[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


def page_statement(rows: Select[Any], descending: bool) -> CompiledQuery:
    """Wrap `rows` (filtered, ordered by id, limited) into one row: the JSON array, its size, the last id."""
    page = rows.subquery("t")
    order = page.c.id.desc() if descending else page.c.id.asc()
    items = func.coalesce(func.json_agg(aggregate_order_by(literal_column("t"), order)), literal_column("'[]'"))
    as_bytes = func.convert_to(cast(items, Text), literal_column("'UTF8'"), type_=LargeBinary)
    last_id = func.min(page.c.id) if descending else func.max(page.c.id)
    return CompiledQuery.of(select(as_bytes, func.count(), last_id).select_from(page))


async def json_page(reads: ReadPool, query: CompiledQuery, params: dict[str, Any], limit: int) -> tuple[bytes, int]:
    """Run a `page_statement`: the body `{"items": [...], "next_cursor": ...}` and the item count."""
    row = await reads.fetchrow(query.sql, *query.args(params | {"limit": limit}))
    if row is None:  # an aggregate always returns one row
        raise RuntimeError("the page query returned no row")
    items, count, last_id = row
    next_cursor = b'"%d"' % last_id if count == limit else b"null"
    return b"".join((b'{"items":', items, b',"next_cursor":', next_cursor, b"}")), count  # one copy of the page
