"""OpenCV work on video files: a quick probe at upload, metadata and a thumbnail in the worker.

Everything here is blocking and CPU-bound: the API calls `probe` through a thread pool, and the
rest runs only in the worker process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2

if TYPE_CHECKING:
    from app.settings import Settings

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


@dataclass(frozen=True)
class VideoLimits:
    """What a video may declare in its container and stream headers, checked before any frame is
    decoded: one decoded 12000x12000 frame alone takes about 1 GB."""

    max_width: int = 4096
    max_height: int = 4096
    max_pixels: int = 4096 * 2160
    max_seconds: float = 4 * 3600
    max_frames: int = 1_000_000
    codecs: frozenset[str] = frozenset(
        {"mp4v", "xvid", "divx", "dx50", "fmp4", "mjpg", "avc1", "h264", "x264", "hvc1", "hev1", "hevc"}
        | {"vp80", "vp08", "vp90", "vp09", "av01"}
    )

    @classmethod
    def of(cls, settings: Settings) -> VideoLimits:
        return cls(
            max_width=settings.max_video_width,
            max_height=settings.max_video_height,
            max_pixels=settings.max_video_pixels,
            max_seconds=settings.max_video_seconds,
            max_frames=settings.max_video_frames,
        )


def check_limits(capture: cv2.VideoCapture, limits: VideoLimits) -> None:
    """Raise VideoError if the opened video's declared size, length or codec is over the limits."""
    width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
    height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    fps = float(capture.get(cv2.CAP_PROP_FPS))
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    codec = _fourcc(capture)
    if width > limits.max_width or height > limits.max_height or width * height > limits.max_pixels:
        raise VideoError(
            f"the video is {width}x{height}; at most {limits.max_width}x{limits.max_height}"
            f" and {limits.max_pixels} pixels are accepted"
        )
    if frames > limits.max_frames:
        raise VideoError(f"the video has {frames} frames; at most {limits.max_frames} are accepted")
    if fps > 0 and frames / fps > limits.max_seconds:
        raise VideoError(f"the video lasts {frames / fps:.0f} s; at most {limits.max_seconds:.0f} s are accepted")
    if codec.lower() not in limits.codecs:
        raise VideoError(f"the video codec {codec!r} is not accepted (accepted: {', '.join(sorted(limits.codecs))})")


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


def probe(path: Path, limits: VideoLimits) -> None:
    """Raise VideoError unless the file opens as a video within the limits and its first frame decodes."""
    capture = _open(path)
    try:
        if capture.get(cv2.CAP_PROP_FRAME_WIDTH) <= 0 or capture.get(cv2.CAP_PROP_FPS) <= 0:
            raise VideoError("the file has no video stream")
        check_limits(capture, limits)
        ok, _ = capture.read()
        if not ok:
            raise VideoError("the first frame of the video cannot be decoded")
    finally:
        capture.release()


def extract(path: Path, limits: VideoLimits) -> tuple[VideoMetadata, bytes]:
    """Metadata and a JPEG thumbnail; raises VideoError for unreadable, truncated or oversized files."""
    capture = _open(path)
    try:
        check_limits(capture, limits)
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
