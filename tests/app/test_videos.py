from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from app.settings import Settings
from app.video import VideoLimits, VideoMetadata, extract
from app.worker import Worker
from tests.app.conftest import _client_for
from tests.app.helpers import assert_error, create_project, upload, wait_for_status
from tests.app.videos import CODECS, make_video, truncate


@pytest.mark.parametrize(("codec", "size"), [("mp4v", (160, 120)), ("MJPG", (320, 240)), ("XVID", (640, 360))])
async def test_upload_is_processed_to_ready_with_metadata(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Worker, tmp_path: Path, codec: str, size: tuple[int, int]
) -> None:
    path = make_video(tmp_path / f"clip{CODECS[codec]}", codec=codec, width=size[0], height=size[1], frames=25)
    project = await create_project(client, auth)
    accepted = await upload(client, auth, project, path)
    assert accepted.status_code == 202
    assert accepted.json()["status"] == "uploaded"

    video = await wait_for_status(client, auth, accepted.json()["id"], {"ready", "failed"})
    assert video["status"] == "ready", video["failure_reason"]
    assert (video["width"], video["height"]) == size
    assert video["fps"] == pytest.approx(10.0)
    assert video["frame_count"] == 25
    assert video["duration_seconds"] == pytest.approx(2.5)
    assert video["codec"].lower() in {codec.lower(), "fmp4", "mp4v", "mjpg", "xvid"}
    assert video["size_bytes"] == path.stat().st_size


async def test_thumbnail_is_a_320px_jpeg(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Worker, video_file: Path
) -> None:
    project = await create_project(client, auth)
    video_id = (await upload(client, auth, project, video_file)).json()["id"]
    await wait_for_status(client, auth, video_id, {"ready"})
    response = await client.get(f"/api/v1/videos/{video_id}/thumbnail", headers=auth)
    assert response.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    assert image.shape[1] == 320


async def test_thumbnail_of_unprocessed_video_is_a_409(
    client: httpx.AsyncClient, auth: dict[str, str], video_file: Path
) -> None:
    project = await create_project(client, auth)
    video_id = (await upload(client, auth, project, video_file)).json()["id"]
    assert_error(await client.get(f"/api/v1/videos/{video_id}/thumbnail", headers=auth), 409, "conflict")


async def test_upload_is_stored_where_every_app_host_reads_it(
    client: httpx.AsyncClient, auth: dict[str, str], video_file: Path, storage: Path
) -> None:
    project = await create_project(client, auth)
    video_id = (await upload(client, auth, project, video_file)).json()["id"]
    assert (storage / f"videos/{video_id}/original.mp4").read_bytes() == video_file.read_bytes()
    assert not list((storage / ".incoming").iterdir()), "the spool file must not linger"


async def test_file_opencv_cannot_open_is_refused_with_the_reason(
    client: httpx.AsyncClient, auth: dict[str, str], tmp_path: Path, storage: Path
) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_bytes(b"this is not a video at all\n" * 100)
    project = await create_project(client, auth)
    error = assert_error(await upload(client, auth, project, fake), 415, "unsupported_video")
    assert "notes.mp4" in error["message"]
    assert "OpenCV" in error["message"]
    assert not list((storage / ".incoming").iterdir())
    assert (await client.get("/api/v1/videos", headers=auth)).json()["items"] == []


async def test_truncated_video_is_refused_or_fails_with_a_reason(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Worker, tmp_path: Path
) -> None:
    whole = make_video(tmp_path / "whole.avi", codec="MJPG", frames=40)
    broken = truncate(whole, tmp_path / "broken.avi")
    project = await create_project(client, auth)
    response = await upload(client, auth, project, broken)
    if response.status_code == 415:
        assert "broken.avi" in response.json()["error"]["message"]
        return
    assert response.status_code == 202
    video = await wait_for_status(client, auth, response.json()["id"], {"ready", "failed"})
    assert video["status"] == "failed"
    assert "truncated" in video["failure_reason"]


async def test_upload_over_the_declared_limit_is_a_413(
    settings_factory: Callable[..., Settings], auth: dict[str, str], tmp_path: Path
) -> None:
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * (256 * 1024))
    async for client in _client_for(settings_factory(max_upload_bytes=64 * 1024)):
        project = await create_project(client, auth)
        assert_error(await upload(client, auth, project, big), 413, "payload_too_large")


async def test_streamed_upload_over_the_limit_is_cut_off(
    settings_factory: Callable[..., Settings], auth: dict[str, str], storage: Path
) -> None:
    async def body() -> object:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.mp4"\r\n\r\n'
        for _ in range(64):
            yield b"\0" * 8192
        yield b"\r\n--b--\r\n"

    async for client in _client_for(settings_factory(max_upload_bytes=64 * 1024)):
        project = await create_project(client, auth)
        response = await client.post(
            f"/api/v1/projects/{project}/videos",
            content=body(),  # type: ignore[arg-type]  # chunked: no Content-Length to check up front
            headers=auth | {"content-type": "multipart/form-data; boundary=b"},
        )
        assert_error(response, 413, "payload_too_large")
        assert not list((storage / ".incoming").iterdir())


async def test_upload_that_is_not_multipart_is_a_415(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    project = await create_project(client, auth)
    response = await client.post(f"/api/v1/projects/{project}/videos", json={"file": "x"}, headers=auth)
    assert_error(response, 415, "unsupported_media_type")


async def test_upload_without_a_file_part_is_a_422(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    project = await create_project(client, auth)
    response = await client.post(
        f"/api/v1/projects/{project}/videos", data={"name": "x"}, files={"other": b"1"}, headers=auth
    )
    assert_error(response, 422, "validation_error")


async def test_upload_to_unknown_project_is_a_404(
    client: httpx.AsyncClient, auth: dict[str, str], video_file: Path
) -> None:
    assert_error(await upload(client, auth, 999, video_file), 404, "not_found")


async def test_list_videos_filters_and_pages(client: httpx.AsyncClient, auth: dict[str, str], video_file: Path) -> None:
    first, second = await create_project(client, auth, "a"), await create_project(client, auth, "b")
    ids = [(await upload(client, auth, first, video_file)).json()["id"] for _ in range(3)]
    await upload(client, auth, second, video_file)

    page = (await client.get("/api/v1/videos", params={"project_id": first, "limit": 2}, headers=auth)).json()
    assert [v["id"] for v in page["items"]] == ids[::-1][:2]
    rest = await client.get(
        "/api/v1/videos", params={"project_id": first, "limit": 2, "cursor": page["next_cursor"]}, headers=auth
    )
    assert [v["id"] for v in rest.json()["items"]] == ids[:1]
    assert rest.json()["next_cursor"] is None

    uploaded = (await client.get("/api/v1/videos", params={"status": "uploaded"}, headers=auth)).json()
    assert len(uploaded["items"]) == 4
    ready = (await client.get("/api/v1/videos", params={"status": "ready"}, headers=auth)).json()
    assert ready["items"] == []
    assert_error(await client.get("/api/v1/videos", params={"status": "bogus"}, headers=auth), 422, "validation_error")


async def test_delete_video_removes_row_and_files(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Worker, video_file: Path, storage: Path
) -> None:
    project = await create_project(client, auth)
    video_id = (await upload(client, auth, project, video_file)).json()["id"]
    await wait_for_status(client, auth, video_id, {"ready"})
    assert (await client.delete(f"/api/v1/videos/{video_id}", headers=auth)).status_code == 204
    assert_error(await client.get(f"/api/v1/videos/{video_id}", headers=auth), 404, "not_found")
    assert not list((storage / "videos" / str(video_id)).glob("*"))


async def test_video_deleted_while_processed_leaves_no_file(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    settings: Settings,
    video_file: Path,
    storage: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = await create_project(client, auth)
    video_id = (await upload(client, auth, project, video_file)).json()["id"]
    deleted = threading.Event()

    def extract_after_the_delete(path: Path, limits: VideoLimits) -> tuple[VideoMetadata, bytes]:
        deleted.wait(timeout=30)
        return extract(path, limits)

    monkeypatch.setattr("app.worker.extract", extract_after_the_delete)
    worker = Worker(settings)
    try:
        job = asyncio.create_task(worker.process(video_id))
        await wait_for_status(client, auth, video_id, {"processing"})
        assert (await client.delete(f"/api/v1/videos/{video_id}", headers=auth)).status_code == 204
        deleted.set()
        await job
    finally:
        await worker.redis.aclose()
        await worker.engine.dispose()
    assert not list((storage / "videos" / str(video_id)).glob("*"))


async def test_video_over_the_size_limits_is_refused_before_decoding(
    client: httpx.AsyncClient, auth: dict[str, str], tmp_path: Path
) -> None:
    """Checked from the headers: the frame (50 MB decoded; a 12000x12000 one takes 1 GB) is never decoded."""
    huge = make_video(tmp_path / "huge.avi", codec="MJPG", width=4104, height=4104, frames=1)
    project = await create_project(client, auth)
    error = assert_error(await upload(client, auth, project, huge), 415, "unsupported_video")
    assert "4104x4104" in error["message"]


async def test_worker_marks_a_video_over_the_limits_failed_with_the_reason(
    client: httpx.AsyncClient, auth: dict[str, str], settings_factory: Callable[..., Settings], video_file: Path
) -> None:
    """A video accepted under wider limits (an older release) fails in the worker, not decoded."""
    project = await create_project(client, auth)
    video_id = (await upload(client, auth, project, video_file)).json()["id"]
    strict = Worker(settings_factory(max_video_width=100))
    try:
        await strict.process(video_id)
    finally:
        await strict.redis.aclose()
        await strict.engine.dispose()
    video = await wait_for_status(client, auth, video_id, {"failed"})
    assert "160x120" in video["failure_reason"]
