"""Run the app's real commands (`python -m app ...`) as child processes, configured like the image."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from app.settings import Settings
from ops.appenv import settings_environment


def start(command: str, settings: Settings, **extra: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", command],
        env=settings_environment(settings, **extra),
        stdout=subprocess.DEVNULL,  # JSON logs; not read by the tests
        stderr=subprocess.DEVNULL,
    )


def run(args: list[str], settings: Settings, **extra: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=settings_environment(settings, **extra),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
