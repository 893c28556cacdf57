"""Where videos and thumbnails live: one interface, a filesystem backend and an S3 backend.

Uploads are first streamed to a local spool file (never held in memory), checked, then handed to
the backend with `put_file`, which moves or uploads the file without reading it whole.
The methods are blocking and are called through a thread pool by async code.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import boto3

from app.settings import Settings

CHUNK = 1024 * 1024


class Storage(Protocol):
    def put_file(self, key: str, source: Path, content_type: str) -> None: ...
    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...
    def local_path(self, key: str) -> Path | None:
        """A path readable by OpenCV, or None when the object must be downloaded first."""

    def download(self, key: str, target: Path) -> None: ...
    def read_bytes(self, key: str) -> bytes:
        """The object's bytes; FileNotFoundError when it is missing."""

    def iter_bytes(self, key: str) -> Iterator[bytes]: ...
    def delete(self, key: str) -> None: ...
    def check(self) -> None:
        """Raise if the backend cannot be written to."""


class FilesystemStorage:
    """A directory, on hosts a volume shared by every app host (so any host can read any video)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key escapes the storage root: {key!r}")
        return path

    def put_file(self, key: str, source: Path, content_type: str) -> None:  # noqa: ARG002 - files carry no type
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # A rename is atomic on one filesystem; across filesystems move copies then renames.
        shutil.move(source, target)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:  # noqa: ARG002
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".partial")
        partial.write_bytes(data)
        partial.replace(target)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def download(self, key: str, target: Path) -> None:
        shutil.copyfile(self._path(key), target)

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def iter_bytes(self, key: str) -> Iterator[bytes]:
        with self._path(key).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise PermissionError(f"storage path {self.root} is not writable")


class S3Storage:
    def __init__(self, bucket: str, endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url)

    def put_file(self, key: str, source: Path, content_type: str) -> None:
        # upload_file streams from disk in multipart chunks.
        self.client.upload_file(str(source), self.bucket, key, ExtraArgs={"ContentType": content_type})
        source.unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def local_path(self, key: str) -> Path | None:  # noqa: ARG002 - objects are never local
        return None

    def download(self, key: str, target: Path) -> None:
        self.client.download_file(self.bucket, key, str(target))

    def read_bytes(self, key: str) -> bytes:
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(f"no object {key!r} in bucket {self.bucket}") from exc
        return body

    def iter_bytes(self, key: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        yield from body.iter_chunks(CHUNK)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


def create_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "s3":
        assert settings.s3_bucket is not None  # checked by Settings
        return S3Storage(settings.s3_bucket, settings.s3_endpoint_url)
    return FilesystemStorage(settings.storage_path)
