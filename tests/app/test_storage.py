"""Both storage backends: the filesystem (a shared volume on hosts) and S3 (against moto's server)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from app.settings import Settings
from app.storage import FilesystemStorage
from app.worker import Worker
from ops.localservices import free_port
from tests.app.conftest import _client_for
from tests.app.helpers import create_project, upload, wait_for_status

BUCKET = "slipway-videos"


def test_filesystem_keys_cannot_escape_the_root(tmp_path: Path) -> None:
    storage = FilesystemStorage(tmp_path / "root")
    with pytest.raises(ValueError, match="escapes"):
        storage.put_bytes("../outside", b"x", "text/plain")
    assert not (tmp_path / "outside").exists()


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 server on loopback: the cloud is the one thing the tests may stand in for."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


async def test_s3_backend_stores_processes_and_deletes(
    settings_factory: Callable[..., Settings], auth: dict[str, str], s3_endpoint: str, video_file: Path
) -> None:
    settings = settings_factory(storage_backend="s3", s3_bucket=BUCKET, s3_endpoint_url=s3_endpoint)
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    async for client in _client_for(settings):
        worker = Worker(settings)
        task = asyncio.create_task(worker.run(handle_signals=False))
        try:
            project = await create_project(client, auth)
            video_id = (await upload(client, auth, project, video_file)).json()["id"]
            video = await wait_for_status(client, auth, video_id, {"ready", "failed"})
            assert video["status"] == "ready", video["failure_reason"]
            stored = s3.get_object(Bucket=BUCKET, Key=f"videos/{video_id}/original.mp4")["Body"].read()
            assert stored == video_file.read_bytes()
            thumbnail = await client.get(f"/api/v1/videos/{video_id}/thumbnail", headers=auth)
            assert thumbnail.content[:2] == b"\xff\xd8"  # a JPEG

            assert (await client.delete(f"/api/v1/videos/{video_id}", headers=auth)).status_code == 204
            assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
        finally:
            worker.stop()
            await task
