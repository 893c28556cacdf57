"""The one settings class. Every environment variable the app reads is declared here."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"change-me", "changeme", "secret", "development-secret-key-do-not-use!!"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    app_env: Literal["development", "test", "production"] = "production"
    app_version: str = "dev"
    # Set by the deployment: the release and the slot (blue/green) this process serves as.
    slipway_version: str = ""
    slipway_slot: str = ""
    port: int = Field(8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    database_url: SecretStr
    db_pool_size: int = Field(10, ge=1)
    # Overflow connections are closed as soon as they are returned, so under sustained load they
    # are opened and closed over and over (a PostgreSQL backend start each time, the worst tail
    # latency the bench saw); waiting in line for a pooled connection is far cheaper.
    db_max_overflow: int = Field(0, ge=0)
    # Raw asyncpg connections for the list pages (app/readpool.py), on top of db_pool_size.
    db_read_pool_size: int = Field(5, ge=1)
    db_connect_timeout_seconds: float = 2.0  # PostgreSQL down: a quick 503, not a hang
    db_pool_timeout_seconds: float = 5.0  # all connections busy: wait this long in line
    db_statement_timeout_ms: int = 10_000
    redis_url: SecretStr
    redis_timeout_seconds: float = 0.25
    secret_key: SecretStr = Field(min_length=32)

    storage_backend: Literal["filesystem", "s3"] = "filesystem"
    storage_path: Path = Path("/srv/videos")
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    upload_tmp_path: Path = Path("/tmp")  # noqa: S108 - a tmpfs the container declares
    max_upload_bytes: int = Field(512 * 1024 * 1024, ge=1024)

    # Videos are refused (at upload, and by the worker) from their headers, before any frame is
    # decoded, when larger than this: one decoded frame costs width x height x 3 bytes.
    max_video_width: int = Field(4096, ge=16)
    max_video_height: int = Field(4096, ge=16)
    max_video_pixels: int = Field(4096 * 2160, ge=256)
    max_video_seconds: float = Field(4 * 3600, gt=0)
    max_video_frames: int = Field(1_000_000, ge=1)

    cors_origins: list[str] = []
    trusted_hosts: list[str] = ["*"]
    # The proxies whose X-Forwarded-For/-Proto are believed (comma-separated addresses or CIDR
    # ranges): the balancers. From anyone else the headers are ignored and the peer is the client.
    forwarded_allow_ips: str = "127.0.0.1"
    rate_limit_per_minute: int = Field(600, ge=1)
    # Requests with a missing or wrong API key, per client address (FORWARDED_ALLOW_IPS decides
    # whether that is the balancer's X-Forwarded-For or the peer): past it, 429 before any lookup.
    failed_auth_per_minute: int = Field(30, ge=1)
    api_key_cache_seconds: float = 10.0
    stats_cache_seconds: int = 30

    # SIGTERM: readiness fails at once; keep serving for the drain delay so the balancer
    # stops sending, then give in-flight requests the grace period before exiting.
    shutdown_drain_seconds: float = 2.0
    shutdown_grace_seconds: float = 20.0
    keep_alive_seconds: int = 75  # longer than nginx's upstream keepalive_timeout (60 s)

    worker_metrics_port: int = 9200
    worker_concurrency: int = Field(1, ge=1)
    # A worker renews the lease of its job every third of JOB_LEASE_SECONDS; a job whose lease
    # ran out (its worker was killed) is reclaimed by the next sweep: within lease + sweep interval.
    job_lease_seconds: int = Field(30, ge=3)
    job_timeout_seconds: int = 300  # one video's processing, at most; then it fails with the reason
    sweep_interval_seconds: float = 15.0
    sweep_stuck_after_seconds: int = 60
    max_job_attempts: int = 3
    fault_injection: bool = False

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.app_env == "production" and self.secret_key.get_secret_value() in PLACEHOLDER_SECRETS:
            raise ValueError("SECRET_KEY is a placeholder; generate one per environment")
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ValueError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()  # values come from the environment
