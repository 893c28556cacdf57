"""`python -m notes serve`: uvicorn with the app contract's SIGTERM behaviour.

On SIGTERM (or SIGINT) readiness turns 503 at once and the process keeps serving for
NOTES_DRAIN_SECONDS, so the balancer moves traffic away; then uvicorn closes the listener and
gives in-flight requests up to NOTES_GRACE_SECONDS before exiting 0. A second signal exits at once.
"""

from __future__ import annotations

import json
import logging
import time
from types import FrameType

import uvicorn

from notes.app import create_app
from notes.settings import Settings

log = logging.getLogger("notes")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, settings: Settings) -> None:
        super().__init__(config)
        self.lifecycle = config.app.state.lifecycle  # type: ignore[union-attr]
        self.drain_seconds = settings.drain_seconds
        self.stop_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:  # noqa: ARG002 - uvicorn's signature
        # Not calling super(): uvicorn would raise the signal again once stopped, and the contract
        # asks for exit status 0 after a graceful stop.
        if self.lifecycle.draining:
            self.should_exit = self.force_exit = True
            return
        self.lifecycle.draining = True
        self.stop_at = time.monotonic() + self.drain_seconds
        log.info("draining: readiness is 503; closing the listener in %.1fs", self.drain_seconds)

    async def on_tick(self, counter: int) -> bool:
        # uvicorn's main loop asks this every 0.1 s whether to stop; a signal handler only sets state.
        if self.stop_at is not None and time.monotonic() >= self.stop_at:
            return True
        return await super().on_tick(counter)


def serve(settings: Settings) -> None:
    configure_logging(settings.log_level)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        server_header=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=max(1, round(settings.grace_seconds)),
        log_config=None,
    )
    DrainingServer(config, settings).run()
