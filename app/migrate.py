"""`python -m app migrate`: Alembic upgrade to head, once, even when several hosts start it.

Migrations are expand-only (add tables, columns, indexes; never drop or rename what the running
release reads), so this is safe while the previous version still serves.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = settings.database_url.get_secret_value()
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)


def pending(settings: Settings) -> list[str]:
    """Revisions not applied yet (for `deploy.sh plan`)."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - only this command needs it

    from app.migrations.env import current_revision  # noqa: PLC0415

    config = alembic_config(settings)
    script = ScriptDirectory.from_config(config)
    current = current_revision(config.attributes["database_url"])
    return [rev.revision for rev in script.iterate_revisions("head", current)]
