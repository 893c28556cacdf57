"""Small videos generated with OpenCV for the tests: several codecs and sizes, and broken ones."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

# (fourcc, container suffix) pairs that OpenCV's bundled FFmpeg can both write and read.
CODECS = {"mp4v": ".mp4", "MJPG": ".avi", "XVID": ".avi"}


def make_video(
    path: Path, *, codec: str = "mp4v", width: int = 160, height: int = 120, fps: float = 10.0, frames: int = 20
) -> Path:
    """Write a video whose frames move a bright square over a gradient (so frames differ)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*codec), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {codec} to {path.suffix}")
    gradient = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
    for index in range(frames):
        frame = cv2.cvtColor(gradient, cv2.COLOR_GRAY2BGR)
        x = (index * 7) % max(1, width - 20)
        cv2.rectangle(frame, (x, height // 3), (x + 20, height // 3 + 20), (0, 0, 255), -1)
        writer.write(frame)
    writer.release()
    return path


def truncate(source: Path, target: Path, keep: float = 0.5) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target
