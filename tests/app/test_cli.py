from __future__ import annotations

import httpx

from app.settings import Settings
from tests.app.processes import run


async def test_create_key_prints_a_working_key_once(settings: Settings, client: httpx.AsyncClient) -> None:
    created = run(["create-key", "--name", "ci"], settings)
    assert created.returncode == 0, created.stderr
    key = created.stdout.split("key: ")[1].strip()
    assert (await client.get("/api/v1/projects", headers={"X-API-Key": key})).status_code == 200


def test_revoke_key_revokes_and_reports_unknown_ids(settings: Settings) -> None:
    key_id = run(["create-key", "--name", "ci"], settings).stdout.split("id: ")[1].split()[0]
    assert run(["revoke-key", key_id], settings).returncode == 0
    again = run(["revoke-key", key_id], settings)
    assert again.returncode == 1
    assert f"no active key with id {key_id}" in again.stdout


def test_missing_configuration_names_the_variables(settings: Settings) -> None:
    result = run(["serve"], settings, DATABASE_URL="", SECRET_KEY="short")
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_placeholder_secret_is_refused_in_production(settings: Settings) -> None:
    result = run(["migrate"], settings, APP_ENV="production", SECRET_KEY="development-secret-key-do-not-use!!")
    assert result.returncode == 2
    assert "placeholder" in result.stderr


def test_migrate_is_idempotent(settings: Settings) -> None:
    first, second = run(["migrate"], settings), run(["migrate"], settings)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr


async def test_create_key_takes_a_tenant_and_scopes(settings: Settings, client: httpx.AsyncClient) -> None:
    created = run(["create-key", "--name", "dash", "--tenant", "acme", "--scopes", "read"], settings)
    assert created.returncode == 0, created.stderr
    headers = {"X-API-Key": created.stdout.split("key: ")[1].strip()}
    assert (await client.get("/api/v1/projects", headers=headers)).status_code == 200
    assert (await client.post("/api/v1/projects", json={"name": "x"}, headers=headers)).status_code == 403
    refused = run(["create-key", "--name", "bad", "--scopes", "read,root"], settings)
    assert refused.returncode == 2
    assert "scopes must be some of read, write, admin" in refused.stderr
