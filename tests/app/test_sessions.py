from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.app.helpers import assert_error, create_project, upload


def detections(count: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    labels = ["car", "person", "bike", "dog"]
    return [
        {
            "frame": i,
            "timestamp_ms": i * 40,
            "label": labels[i % len(labels)],
            "confidence": round(rng.random(), 3),
            "x": 10.0,
            "y": 20.0,
            "width": 30.0,
            "height": 40.0,
        }
        for i in range(count)
    ]


@pytest.fixture
async def session_id(client: httpx.AsyncClient, auth: dict[str, str], video_file: Path) -> int:
    project = await create_project(client, auth)
    video_id = (await upload(client, auth, project, video_file)).json()["id"]
    response = await client.post("/api/v1/sessions", json={"video_id": video_id, "name": "run 1"}, headers=auth)
    assert response.status_code == 201
    return int(response.json()["id"])


async def test_session_on_unknown_video_is_a_404(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post("/api/v1/sessions", json={"video_id": 42, "name": "x"}, headers=auth)
    assert_error(response, 404, "not_found")


async def test_bulk_ingest_then_page_through_in_order(
    client: httpx.AsyncClient, auth: dict[str, str], session_id: int
) -> None:
    sent = detections(2500)
    response = await client.post(f"/api/v1/sessions/{session_id}/detections", json={"events": sent}, headers=auth)
    assert response.json() == {"inserted": 2500}

    frames: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"cursor": cursor} if cursor else {}
        page = (await client.get(f"/api/v1/sessions/{session_id}/detections", params=params, headers=auth)).json()
        frames += [event["frame"] for event in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3  # default page size is 1,000
    assert frames == list(range(2500))


async def test_detections_filter_by_label_and_confidence(
    client: httpx.AsyncClient, auth: dict[str, str], session_id: int
) -> None:
    sent = detections(400)
    await client.post(f"/api/v1/sessions/{session_id}/detections", json={"events": sent}, headers=auth)
    page = await client.get(
        f"/api/v1/sessions/{session_id}/detections", params={"label": "car", "min_confidence": 0.5}, headers=auth
    )
    expected = [e["frame"] for e in sent if e["label"] == "car" and e["confidence"] >= 0.5]
    assert [e["frame"] for e in page.json()["items"]] == expected


async def test_ndjson_stream_has_every_event_once(
    client: httpx.AsyncClient, auth: dict[str, str], session_id: int
) -> None:
    await client.post(f"/api/v1/sessions/{session_id}/detections", json={"events": detections(3000)}, headers=auth)
    async with client.stream("GET", f"/api/v1/sessions/{session_id}/detections/stream", headers=auth) as response:
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) async for line in response.aiter_lines() if line]
    assert [event["frame"] for event in lines] == list(range(3000))
    assert set(lines[0]) >= {"id", "session_id", "frame", "label", "confidence"}


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e.update(confidence=1.5), "confidence"),
        (lambda e: e.update(width=0), "width"),
        (lambda e: e.pop("label"), "label"),
        (lambda e: e.update(frame="first"), "frame"),
        (lambda e: e.update(extra=True), "extra"),
    ],
)
async def test_bad_detection_rejects_the_whole_batch(
    client: httpx.AsyncClient, auth: dict[str, str], session_id: int, mutate: Any, field: str
) -> None:
    batch = detections(3)
    mutate(batch[1])
    response = await client.post(f"/api/v1/sessions/{session_id}/detections", json={"events": batch}, headers=auth)
    error = assert_error(response, 422, "validation_error")
    assert field in {str(part) for detail in error["details"] for part in detail["loc"]}
    page = (await client.get(f"/api/v1/sessions/{session_id}/detections", headers=auth)).json()
    assert page["items"] == []


async def test_batch_over_10000_events_is_refused(
    client: httpx.AsyncClient, auth: dict[str, str], session_id: int
) -> None:
    response = await client.post(
        f"/api/v1/sessions/{session_id}/detections", json={"events": detections(10_001)}, headers=auth
    )
    assert_error(response, 422, "validation_error")


async def test_detections_of_unknown_session_is_a_404(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert_error(await client.get("/api/v1/sessions/77/detections", headers=auth), 404, "not_found")
    assert_error(await client.get("/api/v1/sessions/77/detections/stream", headers=auth), 404, "not_found")
