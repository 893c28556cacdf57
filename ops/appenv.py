"""Render the app's Settings as the environment variables the image reads (for child processes)."""

from __future__ import annotations

import json
import os
from typing import Any

from app.settings import Settings

PASSED_THROUGH = {"PATH", "HOME", "LANG", "PYTHONPATH"}


def settings_environment(settings: Settings, **extra: Any) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key in PASSED_THROUGH}
    for name, raw in settings.model_dump().items():
        value = raw.get_secret_value() if hasattr(raw, "get_secret_value") else raw
        env[name.upper()] = json.dumps(value) if isinstance(value, list | bool) else str(value)
    env.update({key.upper(): str(value) for key, value in extra.items()})
    return env
