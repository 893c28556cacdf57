"""OpenCV work on video files: a quick probe at upload, metadata and a thumbnail in the worker.

Everything here is blocking and CPU-bound: the API calls `probe` through a thread pool, and the
rest runs only in the worker process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2

THUMBNAIL_WIDTH = 320
THUMBNAIL_AT_SECONDS = 1.0  # early enough to be cheap to seek, late enough to skip a black first frame


class VideoError(Exception):
    """The file is not a video OpenCV can decode; the message says why."""


@dataclass(frozen=True)
class VideoMetadata:
    fps: float
    frame_count: int
    duration_seconds: float
    width: int
    height: int
    codec: str


def _open(path: Path) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture.release()
        raise VideoError("the file is not a video format OpenCV can open")
    return capture


def _fourcc(capture: cv2.VideoCapture) -> str:
    code = int(capture.get(cv2.CAP_PROP_FOURCC))
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return text.strip("\x00 ") if text.isprintable() else str(code)


def probe(path: Path) -> None:
    """Raise VideoError unless the file opens as a video and its first frame decodes."""
    capture = _open(path)
    try:
        if capture.get(cv2.CAP_PROP_FRAME_WIDTH) <= 0 or capture.get(cv2.CAP_PROP_FPS) <= 0:
            raise VideoError("the file has no video stream")
        ok, _ = capture.read()
        if not ok:
            raise VideoError("the first frame of the video cannot be decoded")
    finally:
        capture.release()


def extract(path: Path) -> tuple[VideoMetadata, bytes]:
    """Metadata and a JPEG thumbnail; raises VideoError for unreadable or truncated files."""
    capture = _open(path)
    try:
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if fps <= 0 or width <= 0 or height <= 0 or frames <= 0:
            raise VideoError("the file has no readable video stream")
        metadata = VideoMetadata(
            fps=round(fps, 3),
            frame_count=frames,
            duration_seconds=round(frames / fps, 3),
            width=width,
            height=height,
            codec=_fourcc(capture),
        )
        thumbnail = _thumbnail(capture, fps, frames)
        _check_complete(capture, frames)
        return metadata, thumbnail
    finally:
        capture.release()


def _thumbnail(capture: cv2.VideoCapture, fps: float, frames: int) -> bytes:
    target = min(int(fps * THUMBNAIL_AT_SECONDS), frames // 2)
    if target > 0:
        capture.set(cv2.CAP_PROP_POS_FRAMES, target)
    ok, frame = capture.read()
    if not ok:
        capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        ok, frame = capture.read()
    if not ok:
        raise VideoError("no frame of the video can be decoded")
    height = max(1, round(frame.shape[0] * THUMBNAIL_WIDTH / frame.shape[1]))
    small = cv2.resize(frame, (THUMBNAIL_WIDTH, height), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise VideoError("the thumbnail could not be encoded")
    return bytes(jpeg.tobytes())


def _check_complete(capture: cv2.VideoCapture, frames: int) -> None:
    # A truncated file still opens from its header; its last frame is what is missing.
    capture.set(cv2.CAP_PROP_POS_FRAMES, max(0, frames - 1))
    ok, _ = capture.read()
    if not ok:
        raise VideoError(f"the video is truncated or corrupt: frame {frames} of {frames} cannot be decoded")
