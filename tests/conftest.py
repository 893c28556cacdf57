"""Fixtures shared by the whole suite: throwaway PostgreSQL and Redis servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ops.localservices import Postgres, Redis, running_services


@pytest.fixture(scope="session")
def servers() -> Iterator[tuple[Postgres, Redis]]:
    """A PostgreSQL 15 and a Redis server for this test run, stopped and deleted at the end."""
    with running_services() as pair:
        yield pair


@pytest.fixture(scope="session")
def postgres(servers: tuple[Postgres, Redis]) -> Postgres:
    return servers[0]


@pytest.fixture(scope="session")
def redis_server(servers: tuple[Postgres, Redis]) -> Redis:
    return servers[1]
