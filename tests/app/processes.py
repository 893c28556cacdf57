"""Run the app's real commands (`python -m app ...`) as child processes, configured like the image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from app.settings import Settings


def environment(settings: Settings, **extra: Any) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG", "PYTHONPATH"}}
    for name, raw in settings.model_dump().items():
        value = raw.get_secret_value() if hasattr(raw, "get_secret_value") else raw
        env[name.upper()] = json.dumps(value) if isinstance(value, list | bool) else str(value)
    env.update({key.upper(): str(value) for key, value in extra.items()})
    return env


def start(command: str, settings: Settings, **extra: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", command],
        env=environment(settings, **extra),
        stdout=subprocess.DEVNULL,  # JSON logs; not read by the tests
        stderr=subprocess.DEVNULL,
    )


def run(args: list[str], settings: Settings, **extra: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=environment(settings, **extra),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
