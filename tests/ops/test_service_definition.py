"""The app definition: the reference one is valid, and each kind of mistake is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.deploy import cli
from ops.service.definition import PostgresRef, SecretRef
from ops.service.load import DEFAULT_DEFINITION, DefinitionError, load, parse

REFERENCE = DEFAULT_DEFINITION.read_text()


def _problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse(text, Path("slipway.yml"))
    return caught.value.problems


def test_the_reference_definition_is_valid() -> None:
    definition = load()
    assert definition.web.port == 8000
    assert [worker.name for worker in definition.workers] == ["worker"]
    assert definition.environment["SECRET_KEY"] == SecretRef(secret="secret_key")
    assert definition.environment["DATABASE_URL"] == PostgresRef(postgres="url")
    assert definition.data.names() == ["postgres", "redis"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param("  port: 8000\n", "", "web.port: Field required; add it", id="missing-port"),
        pytest.param(
            "  redis:\n    database: 0\n",
            "  mysql: {}\n",
            "data.mysql: unknown data service; the data services are postgres, redis, object_storage",
            id="unknown-data-service",
        ),
        pytest.param(
            "SECRET_KEY: {secret: secret_key}",
            "SECRET_KEY: hunter2hunter2",
            "environment.SECRET_KEY looks like a secret and is given as a value: write {secret: secret_key} instead",
            id="secret-as-value",
        ),
        pytest.param(
            "DATABASE_URL: {postgres: url}",
            "DATABASE_URL: postgresql://app:s3cret@db/app",
            "environment.DATABASE_URL holds a URL with a password",
            id="credential-in-url",
        ),
        pytest.param(
            "live: /health/live",
            "live: health/live",
            "web.health.live: 'health/live' is not a path: write it with a leading slash, e.g. '/health/live'",
            id="path-without-slash",
        ),
        pytest.param(
            "REDIS_URL: {redis: url}",
            "REDIS_URL: {redis: uri}",
            "environment.REDIS_URL.redis: Input should be 'url', 'host', 'port', 'user' or 'password'",
            id="unknown-reference-field",
        ),
        pytest.param(
            "REDIS_URL: {redis: url}",
            "REDIS_URL: {vault: redis}",
            "environment.REDIS_URL: a reference is one of {secret: ...}, {postgres: ...}",
            id="unknown-reference",
        ),
        pytest.param(
            "  redis:\n    database: 0\n",
            "",
            "environment.REDIS_URL reads redis, which data does not list: add data.redis",
            id="reference-to-missing-service",
        ),
        pytest.param(
            "  postgres:\n    url_scheme: postgresql+asyncpg\n    url_query: ssl=require\n",
            "",
            "migrate needs a database: add data.postgres, or remove migrate",
            id="migrations-without-database",
        ),
        pytest.param("stop_seconds: 30", "stop_second: 30", "web.stop_second: Extra inputs", id="misspelt-key"),
        pytest.param(
            "    database: 0\n", "    database: 0\n    secret: x\n", "data.redis.secret: Extra inputs", id="data-key"
        ),
        pytest.param("memory: 768m", "memory: 768MB", "web.resources.memory: '768MB' is not a size", id="memory-form"),
        pytest.param(
            "STORAGE_PATH: {volume: videos}",
            "STORAGE_PATH: {volume: media}",
            "environment.STORAGE_PATH reads volume 'media', which volumes does not define",
            id="unknown-volume",
        ),
        pytest.param("service: slipway", "service: My_API", "service: 'My_API' is not lowercase", id="service-name"),
        pytest.param(
            "  - name: worker\n",
            "  - name: worker\n    command: [worker]\n  - name: worker\n",
            "workers: the name 'worker' is used twice",
            id="worker-twice",
        ),
    ],
)
def test_a_mistake_is_refused_naming_the_key_and_the_fix(old: str, new: str, expected: str) -> None:
    assert old in REFERENCE
    problems = _problems(REFERENCE.replace(old, new, 1))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_every_mistake_is_reported_at_once() -> None:
    text = REFERENCE.replace("port: 8000", "port: 0").replace("ready: /health/ready", "ready: ready")
    assert [problem.split(":")[0] for problem in _problems(text)] == ["web.port", "web.health.ready"]


@pytest.mark.parametrize("text", ["web: [", "- a list", ""], ids=["bad-yaml", "not-a-mapping", "empty"])
def test_a_file_that_is_no_definition_is_refused(text: str) -> None:
    assert _problems(text)


def test_check_prints_a_summary_or_the_mistakes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check"]) == 0
    assert "service slipway is a valid app definition" in capsys.readouterr().out
    broken = tmp_path / "slipway.yml"
    broken.write_text(REFERENCE.replace("  port: 8000\n", ""))
    assert cli.main(["check", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "web.port: Field required; add it" in err
    assert f"what to do: edit {broken}" in err
    assert cli.main(["check", str(tmp_path / "missing.yml")]) == 1
    assert "cannot read the app definition" in capsys.readouterr().err
