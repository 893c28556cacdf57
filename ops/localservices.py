"""Throwaway PostgreSQL and Redis servers on loopback, for the test suite and the benchmarks.

Each server gets a temporary data directory and a free port, and can be stopped and started
again on the same port and data (the failure-mode tests rely on that). Nothing here touches the
machine's own services or their data.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def _as_service_user(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; the postgresql package provides this user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class Postgres:
    """A PostgreSQL 15 cluster in a temporary directory, trust auth on loopback only."""

    port: int = field(default_factory=free_port)
    user: str = "slipway"
    password: str = "slipway-test"  # noqa: S105 - a throwaway local test cluster
    database: str = "slipway"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="slipway-pg-")))

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def init(self) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        subprocess.run(
            _as_service_user(
                [str(PG_BIN / "initdb"), "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
        )
        self.start()
        self.psql(f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}'")
        self.psql(f"CREATE DATABASE {self.database} OWNER {self.user}")

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        subprocess.run(
            _as_service_user(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-o",
                    options,
                    "-w",
                    "-l",
                    str(self.root / "log"),
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        subprocess.run(
            _as_service_user([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"]),
            check=False,
            capture_output=True,
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-tAc", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Redis:
    """A Redis server with no persistence, bound to 127.0.0.1."""

    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="slipway-redis-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", *self._arguments()])
        wait_for_port(self.port)

    def _arguments(self) -> list[str]:
        options = {
            "bind": "127.0.0.1",
            "port": str(self.port),
            "save": "",
            "appendonly": "no",
            "dir": str(self.root),
            "logfile": str(self.root / "log"),
        }
        return [item for name, value in options.items() for item in (f"--{name}", value)]

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_services() -> Iterator[tuple[Postgres, Redis]]:
    """Start a throwaway PostgreSQL and Redis; stop and delete both on exit."""
    postgres, redis = Postgres(), Redis()
    try:
        postgres.init()
        redis.start()
        yield postgres, redis
    finally:
        redis.destroy()
        postgres.destroy()
