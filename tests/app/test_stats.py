from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from app.settings import Settings
from tests.app.conftest import _client_for
from tests.app.helpers import assert_error, create_project, upload
from tests.app.test_sessions import detections


def sample(text: str, series: str) -> float:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0


def cache_count(text: str, result: str) -> float:
    return sample(text, f'cache_requests_total{{cache="stats",result="{result}"}}')


def stats_requests(text: str, status: int) -> float:
    return sample(text, f'http_requests_total{{method="GET",route="/api/v1/stats",status="{status}"}}')


async def test_stats_aggregate_videos_sessions_and_detections(
    client: httpx.AsyncClient, auth: dict[str, str], video_file: Path
) -> None:
    project = await create_project(client, auth)
    other = await create_project(client, auth, "other")
    video_id = (await upload(client, auth, project, video_file)).json()["id"]
    await upload(client, auth, other, video_file)
    session = (await client.post("/api/v1/sessions", json={"video_id": video_id, "name": "s"}, headers=auth)).json()
    await client.post(f"/api/v1/sessions/{session['id']}/detections", json={"events": detections(10)}, headers=auth)

    stats = (await client.get("/api/v1/stats", params={"project_id": project}, headers=auth)).json()
    assert stats["videos_total"] == 1
    assert stats["videos_by_status"] == {"uploaded": 1, "processing": 0, "ready": 0, "failed": 0}
    assert stats["total_bytes"] == video_file.stat().st_size
    assert stats["sessions_total"] == 1
    assert stats["detections_total"] == 10
    assert stats["top_labels"][:2] == [{"label": "car", "count": 3}, {"label": "person", "count": 3}]
    everything = (await client.get("/api/v1/stats", headers=auth)).json()
    assert everything["videos_total"] == 2


async def test_stats_are_cached_and_invalidated_by_writes(
    client: httpx.AsyncClient, auth: dict[str, str], video_file: Path
) -> None:
    project = await create_project(client, auth)
    before = (await client.get("/metrics")).text
    assert (await client.get("/api/v1/stats", headers=auth)).json()["videos_total"] == 0
    assert (await client.get("/api/v1/stats", headers=auth)).json()["videos_total"] == 0
    after = (await client.get("/metrics")).text
    assert cache_count(after, "miss") - cache_count(before, "miss") == 1
    assert cache_count(after, "hit") - cache_count(before, "hit") == 1

    scoped = {"project_id": project}
    assert (await client.get("/api/v1/stats", params=scoped, headers=auth)).json()["sessions_total"] == 0
    video_id = (await upload(client, auth, project, video_file)).json()["id"]
    assert (await client.get("/api/v1/stats", headers=auth)).json()["videos_total"] == 1
    session = (await client.post("/api/v1/sessions", json={"video_id": video_id, "name": "s"}, headers=auth)).json()
    assert (await client.get("/api/v1/stats", params=scoped, headers=auth)).json()["sessions_total"] == 1
    await client.post(f"/api/v1/sessions/{session['id']}/detections", json={"events": detections(4)}, headers=auth)
    assert (await client.get("/api/v1/stats", params=scoped, headers=auth)).json()["detections_total"] == 4


async def test_repeated_stats_are_answered_alike_and_still_rate_limited(
    settings_factory: Callable[..., Settings], auth: dict[str, str]
) -> None:
    async for client in _client_for(settings_factory(rate_limit_per_minute=3)):
        before = (await client.get("/metrics")).text
        first = await client.get("/api/v1/stats", headers=auth)  # fills the caches
        second = await client.get("/api/v1/stats", headers=auth | {"X-Request-ID": "hot-1"})
        assert second.status_code == 200
        assert second.content == first.content
        assert second.headers["content-type"] == "application/json"
        assert second.headers["x-request-id"] == "hot-1"
        assert (await client.get("/api/v1/stats", params={"project_id": "1"}, headers=auth)).status_code == 200
        assert_error(await client.get("/api/v1/stats", headers=auth), 429, "rate_limited")
        assert_error(await client.get("/api/v1/stats", headers={"X-API-Key": "sk_wrong"}), 401, "unauthorized")
        after = (await client.get("/metrics")).text
        assert stats_requests(after, 200) - stats_requests(before, 200) == 3
        assert stats_requests(after, 429) - stats_requests(before, 429) == 1
