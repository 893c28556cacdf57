"""Notes settings come from the environment only, and a bad one is named."""

from __future__ import annotations

import pytest

from notes.settings import SettingsError, from_environment  # isort: skip - on the path the conftest gives it

BASE = {"NOTES_DATABASE_URL": "postgresql+asyncpg://u:p@db:5432/notes?sslmode=require", "NOTES_TOKEN": "t" * 64}


def test_defaults_and_the_url_asyncpg_understands() -> None:
    settings = from_environment(BASE)

    assert settings.port == 9000
    assert settings.host == "0.0.0.0"  # noqa: S104 - all interfaces of the container
    assert settings.dsn == "postgresql://u:p@db:5432/notes?sslmode=require"


def test_every_variable_is_read() -> None:
    settings = from_environment(
        BASE
        | {
            "PORT": "9100",
            "NOTES_HOST": "127.0.0.1",
            "NOTES_POOL_SIZE": "3",
            "NOTES_DRAIN_SECONDS": "0.5",
            "NOTES_GRACE_SECONDS": "4",
            "NOTES_FORWARDED_ALLOW_IPS": "10.0.0.1,10.0.0.2",
            "NOTES_LOG_LEVEL": "debug",
        }
    )

    assert (settings.port, settings.host, settings.pool_size) == (9100, "127.0.0.1", 3)
    assert (settings.drain_seconds, settings.grace_seconds) == (0.5, 4.0)
    assert (settings.forwarded_allow_ips, settings.log_level) == ("10.0.0.1,10.0.0.2", "DEBUG")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"NOTES_DATABASE_URL": ""}, "NOTES_DATABASE_URL"),
        ({"NOTES_TOKEN": "short"}, "NOTES_TOKEN"),
        ({"PORT": "http"}, "PORT"),
        ({"NOTES_POOL_SIZE": "1.5"}, "NOTES_POOL_SIZE"),
        ({"NOTES_DRAIN_SECONDS": "-1"}, "NOTES_DRAIN_SECONDS"),
        ({"NOTES_GRACE_SECONDS": "nan"}, "NOTES_GRACE_SECONDS"),
    ],
)
def test_a_bad_setting_is_named(change: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        from_environment(BASE | change)
