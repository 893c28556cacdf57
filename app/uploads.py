"""Streaming multipart upload: the body goes chunk by chunk to a spool file, never whole in memory.

Only the part named `file` is kept. The size limit is enforced twice: up front from
Content-Length (so an oversized upload is refused before it is sent), and while streaming (so a
chunked or lying client is cut off at the limit).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from app.errors import ApiError

FILE_FIELD = b"file"
FLUSH_BYTES = 1024 * 1024  # buffer up to 1 MiB before each write, done off the event loop
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file itself


# type/subtype with optional parameters, in printable ASCII (RFC 9110's token characters and more).
_MEDIA_TYPE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+(;[ -~]*)?")


def _printable(name: str) -> str:
    """The file name without control characters (PostgreSQL's text cannot even hold a NUL)."""
    return "".join(char for char in name if char.isprintable())


@dataclass
class ReceivedFile:
    path: Path
    filename: str
    content_type: str
    size: int


class _Collector:
    """Receives the parser's callbacks for one request."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink = sink
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.size = 0
        self.found = False
        self.filename = ""
        self.content_type = "application/octet-stream"
        self._in_file = False
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._add("field", data[start:end]),
            "on_header_value": lambda data, start, end: self._add("value", data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _add(self, which: str, data: bytes) -> None:
        if which == "field":
            self._header_field += data
        else:
            self._header_value += data

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._in_file = params.get(b"name") == FILE_FIELD and b"filename" in params and not self.found
        if self._in_file:
            self.found = True
            self.filename = _printable(params[b"filename"].decode("utf-8", "replace"))[:255] or "upload"
            content_type = self._headers.get(b"content-type", b"application/octet-stream")
            if not _MEDIA_TYPE.fullmatch(content_type):
                raise ApiError(400, "the file part's Content-Type is not a media type")
            self.content_type = content_type.decode("ascii")[:100]

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            chunk = data[start:end]
            self.pending.append(chunk)
            self.pending_bytes += len(chunk)
            self.size += len(chunk)

    def _part_end(self) -> None:
        self._in_file = False

    def take_pending(self) -> bytes:
        data = b"".join(self.pending)
        self.pending.clear()
        self.pending_bytes = 0
        return data


def _boundary(request: Request) -> bytes:
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise ApiError(415, "upload as multipart/form-data with the video in a part named 'file'")
    return params[b"boundary"]


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"the upload exceeds the limit of {limit} bytes")


def _open_spool_file(spool_dir: Path) -> IO[bytes]:
    spool_dir.mkdir(parents=True, exist_ok=True)
    return tempfile.NamedTemporaryFile(dir=spool_dir, prefix="upload-", suffix=".part", delete=False)


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


def _write(parser: MultipartParser, chunk: bytes) -> None:
    try:
        parser.write(chunk)
    except MultipartParseError as exc:
        raise ApiError(400, "the multipart body is malformed") from exc


def _finalize(parser: MultipartParser) -> None:
    try:
        parser.finalize()
    except MultipartParseError as exc:
        raise ApiError(400, "the multipart body is malformed") from exc


async def receive_upload(request: Request, spool_dir: Path, max_bytes: int) -> ReceivedFile:
    """Stream the request's `file` part to a new file in `spool_dir`; the caller owns the file."""
    boundary = _boundary(request)
    declared = request.headers.get("content-length")
    if (
        declared is not None
        and declared.isascii()
        and declared.isdigit()
        and int(declared) > max_bytes + MULTIPART_OVERHEAD
    ):
        raise _too_large(max_bytes)

    handle = await anyio.to_thread.run_sync(_open_spool_file, spool_dir)
    path = Path(handle.name)
    collector = _Collector(handle)
    parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            _write(parser, chunk)
            if collector.size > max_bytes:
                raise _too_large(max_bytes)
            if collector.pending_bytes >= FLUSH_BYTES:
                await anyio.to_thread.run_sync(handle.write, collector.take_pending())
        _finalize(parser)
        await anyio.to_thread.run_sync(handle.write, collector.take_pending())
        handle.close()
    except BaseException:
        handle.close()
        await anyio.to_thread.run_sync(_discard, path)
        raise
    if not collector.found or collector.size == 0:
        await anyio.to_thread.run_sync(_discard, path)
        reason = "the uploaded file is empty" if collector.found else "the form has no file part named 'file'"
        raise ApiError(422, reason)
    return ReceivedFile(path, collector.filename, collector.content_type, collector.size)
