"""The hot paths answer exactly as the routes do, and leave everything unusual to the routes."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from app.hotpath import DETECTIONS, HotPaths
from app.settings import Settings
from ops.localservices import Postgres
from tests.app.conftest import _client_for
from tests.app.helpers import assert_error
from tests.app.test_stats import sample

SEED_SQL = """
INSERT INTO projects (name, description) SELECT 'project ' || g, '' FROM generate_series(1, 3) g;
INSERT INTO videos (project_id, filename, content_type, size_bytes, storage_key, status, attempts)
SELECT 1 + g % 3, 'clip-' || g || '.mp4', 'video/mp4', 1000 + g, 'videos/' || g,
       (ARRAY['ready', 'failed', 'uploaded'])[1 + g % 3]::video_status, 0
FROM generate_series(1, 120) g;
INSERT INTO test_sessions (video_id, name) VALUES (1, 'run'), (2, 'empty');
INSERT INTO detection_events (session_id, frame, timestamp_ms, label, confidence, x, y, width, height)
SELECT 1, g, g * 33, 'car', (g % 100) / 100.0, g, g, 40, 80 FROM generate_series(1, 1500) g;
"""

# (path, answered by the hot path): the plain cases are, anything unusual goes to the route.
CASES = [
    ("/api/v1/videos", True),
    ("/api/v1/videos?limit=7", True),
    ("/api/v1/videos?project_id=2&status=failed&limit=5", True),
    ("/api/v1/videos?cursor=50&limit=10", True),
    ("/api/v1/videos?project_id=999", True),
    ("/api/v1/sessions/1/detections", True),  # about 150 KB: compressed off the event loop
    ("/api/v1/sessions/1/detections?cursor=1400&limit=300", True),
    ("/api/v1/sessions/2/detections", True),  # empty, but the session exists
    ("/api/v1/sessions/999/detections", True),  # the route's 404
    ("/api/v1/stats?project_id=1", True),
    ("/api/v1/videos?limit=0", False),
    ("/api/v1/videos?limit=1001", False),
    ("/api/v1/videos?limit=abc", False),
    ("/api/v1/videos?status=bogus", False),
    ("/api/v1/videos?cursor=x", False),
    ("/api/v1/videos?project_id=-1", False),
    ("/api/v1/videos?limit=5&limit=6", False),
    ("/api/v1/videos?unknown=1", False),
    ("/api/v1/videos?limit=%D9%A3", False),  # a digit, but not an ASCII one
    ("/api/v1/videos?cursor=%C2%B2", False),
    ("/api/v1/sessions/1/detections?label=car", False),
    ("/api/v1/sessions/abc/detections", False),
]


@pytest.fixture
async def seeded(migrated: Postgres, settings: Settings) -> Settings:
    migrated.psql(SEED_SQL, database=migrated.database)
    return settings


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the hot path answered each request, in order."""
    results: list[bool] = []
    original = HotPaths._answer

    async def recording(self: HotPaths, *args: Any) -> bool:
        result = await original(self, *args)
        results.append(result)
        return result

    monkeypatch.setattr(HotPaths, "_answer", recording)
    return results


@pytest.fixture
async def seeded_client(seeded: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client_for(seeded):
        yield client


def _shape(response: httpx.Response) -> tuple[Any, ...]:
    body = response.json()
    if "error" in body:
        body["error"].pop("request_id")
    headers = response.headers
    return response.status_code, headers["content-type"], headers.get("content-encoding"), headers.get("vary"), body


@pytest.mark.parametrize(("path", "hot"), CASES)
@pytest.mark.parametrize("encoding", ["gzip", "identity"])
async def test_hot_reads_are_answered_like_the_routes(
    seeded_client: httpx.AsyncClient,
    auth: dict[str, str],
    answered: list[bool],
    path: str,
    hot: bool,
    encoding: str,
) -> None:
    headers = auth | {"Accept-Encoding": encoding}
    await seeded_client.get("/api/v1/stats", headers=headers)  # verifies the key and fills the stats cache
    # An Origin header always takes the route (CORS is the route's business): the reference answer.
    routed = await seeded_client.get(path, headers=headers | {"Origin": "https://dash.example.com"})
    answered.clear()
    direct = await seeded_client.get(path, headers=headers)
    assert answered == [hot]
    assert _shape(direct) == _shape(routed)  # httpx has decompressed both bodies


async def test_hot_paths_need_a_key_verified_in_this_process(
    seeded_client: httpx.AsyncClient, auth: dict[str, str], answered: list[bool]
) -> None:
    assert_error(await seeded_client.get("/api/v1/videos", headers={"X-API-Key": "sk_wrong"}), 401, "unauthorized")
    assert_error(await seeded_client.get("/api/v1/videos"), 401, "unauthorized")
    first = await seeded_client.get("/api/v1/videos", headers=auth)
    second = await seeded_client.get("/api/v1/videos", headers=auth)
    assert answered == [False, False, False, True]
    assert first.content == second.content


async def test_hot_pages_are_rate_limited_and_counted_by_route(
    settings_factory: Callable[..., Settings], migrated: Postgres, auth: dict[str, str]
) -> None:
    migrated.psql(SEED_SQL, database=migrated.database)
    async for client in _client_for(settings_factory(rate_limit_per_minute=3)):
        before = (await client.get("/metrics")).text
        for _ in range(3):
            assert (await client.get("/api/v1/sessions/1/detections", headers=auth)).status_code == 200
        refused = assert_error(await client.get("/api/v1/sessions/1/detections", headers=auth), 429, "rate_limited")
        assert "3 requests per minute" in refused["message"]
        after = (await client.get("/metrics")).text
        for status, count in ((200, 3), (429, 1)):
            series = f'http_requests_total{{method="GET",route="{DETECTIONS}",status="{status}"}}'
            assert sample(after, series) - sample(before, series) == count


VALUES = ["", "0", "1", "2", "7", "50", "999", "1000", "1001", "-1", "01", "abc", "%D9%A3", "%C2%B2", "1.5"]
VALUES += [str(2**63), str(2**63 - 1), "9" * 18, "9" * 19, "ready", "failed", "uploaded", "bogus", "%00", "car"]
PARAMS = ["project_id", "status", "cursor", "limit", "label", "unknown"]
PATHS = ["/api/v1/videos", "/api/v1/stats", *(f"/api/v1/sessions/{s}/detections" for s in ("1", "2", "0", "999", "x"))]


def _generated_requests(count: int, seed: int = 12) -> list[str]:
    """Paths with random mixes of known, unknown, repeated and malformed query parameters."""
    pick = random.Random(seed)
    requests = []
    for _ in range(count):
        pairs = [f"{pick.choice(PARAMS)}={pick.choice(VALUES)}" for _ in range(pick.randint(0, 3))]
        requests.append(pick.choice(PATHS) + ("?" + "&".join(pairs) if pairs else ""))
    return requests


async def test_generated_requests_get_identical_answers_from_hot_paths_and_routes(
    seeded_client: httpx.AsyncClient, auth: dict[str, str], answered: list[bool]
) -> None:
    await seeded_client.get("/api/v1/stats", headers=auth)  # verifies the key and fills the stats cache
    hot = []
    for path in _generated_requests(300):
        for encoding in ("gzip", "identity"):
            headers = auth | {"Accept-Encoding": encoding}
            routed = await seeded_client.get(path, headers=headers | {"Origin": "https://dash.example.com"})
            answered.clear()
            direct = await seeded_client.get(path, headers=headers)
            hot.extend(answered)
            assert _shape(direct) == _shape(routed), path
    # Both the hot paths and the fallbacks to the routes were exercised.
    assert 0.1 < sum(hot) / len(hot) < 0.9
