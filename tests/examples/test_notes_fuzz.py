"""Whatever JSON a client sends, notes answers 201 or a JSON 422: never a 500."""

from __future__ import annotations

import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Any code point, lone surrogates and NUL included: JSON escapes can spell them all.
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
FIELD = JSON | TEXT | st.sampled_from(["", " ", "ok", "x" * 200, "x" * 201, "\x00", "\ud800"])
NOTE = st.fixed_dictionaries({}, optional={"title": FIELD, "body": FIELD, "extra": JSON})


# No example database: nothing is written into the working tree. The fixtures hold no state that
# one example could leave behind for the next beyond rows of the notes table.
SETTINGS = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(SETTINGS, max_examples=300)
@given(body=NOTE | JSON)
async def test_any_json_body_gets_201_or_a_json_422(
    client: httpx.AsyncClient, auth: dict[str, str], body: object
) -> None:
    response = await client.post(
        "/notes", content=json.dumps(body), headers=auth | {"content-type": "application/json"}
    )

    assert response.status_code in (201, 422), response.text
    answer = response.json()
    if response.status_code == 201:
        assert isinstance(body, dict)
        assert answer["title"] == body["title"]
        assert (await client.get(f"/notes/{answer['id']}", headers=auth)).json() == answer
    else:
        assert answer["error"] in ("invalid_body", "invalid_json")


@settings(SETTINGS, max_examples=100)
@given(limit=st.text(max_size=30), before=st.text(max_size=30))  # a URL cannot carry a lone surrogate
async def test_any_query_gets_200_or_a_json_422(
    client: httpx.AsyncClient, auth: dict[str, str], limit: str, before: str
) -> None:
    response = await client.get("/notes", params={"limit": limit, "before": before}, headers=auth)

    assert response.status_code in (200, 422), response.text
    assert response.headers["content-type"] == "application/json"
