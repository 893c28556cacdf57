"""Videos for the benchmarks, generated once with OpenCV and kept under build/."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

CLIP_COUNT = 4
CLIP_SIZE = (1280, 720)
CLIP_FPS = 30
CLIP_SECONDS = 10


def big_video(path: Path, target_bytes: int = 200 * 1024 * 1024) -> Path:
    """An MJPG AVI of at least `target_bytes` (noisy frames compress poorly, so few are needed)."""
    if path.exists() and path.stat().st_size >= target_bytes:
        return path
    frame = np.random.default_rng(7).integers(0, 255, (CLIP_SIZE[1], CLIP_SIZE[0], 3), dtype=np.uint8)
    frames = 20
    for _ in range(4):  # the encoder's frame size is only known after writing: scale up and retry
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25, CLIP_SIZE)
        for index in range(frames):
            writer.write(np.roll(frame, index * 13, axis=1))
        writer.release()
        size = path.stat().st_size
        if size >= target_bytes:
            return path
        frames = int(frames * target_bytes / size * 1.03) + 1
    raise RuntimeError(f"{path} came out smaller than {target_bytes} bytes")


def clips(folder: Path) -> list[Path]:
    """Four 720p, 10 s, 30 fps MPEG-4 clips with moving content."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(CLIP_COUNT):
        path = folder / f"clip-{number}.mp4"
        if not path.exists():
            _write_clip(path, number)
        paths.append(path)
    return paths


def _write_clip(path: Path, seed: int) -> None:
    width, height = CLIP_SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), CLIP_FPS, CLIP_SIZE)
    base = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
    background = cv2.cvtColor(base, cv2.COLOR_GRAY2BGR)
    for index in range(CLIP_FPS * CLIP_SECONDS):
        frame = background.copy()
        x = (index * 9 + seed * 100) % (width - 120)
        cv2.circle(frame, (x + 60, height // 2), 60, (0, 0, 255), -1)
        writer.write(frame)
    writer.release()
