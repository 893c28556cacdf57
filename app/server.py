"""`python -m app serve`: uvicorn with the app contract's SIGTERM behaviour.

On SIGTERM (or SIGINT) readiness turns 503 at once while the process keeps serving for
SHUTDOWN_DRAIN_SECONDS, so the balancer moves traffic away; then uvicorn stops accepting and gives
in-flight requests up to SHUTDOWN_GRACE_SECONDS before exiting 0. A second signal exits at once.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from types import FrameType

import uvicorn

from app.logs import configure_logging
from app.main import create_app
from app.services import Services
from app.settings import Settings

log = logging.getLogger(__name__)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, services: Services) -> None:
        super().__init__(config)
        self.services = services

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:  # noqa: ARG002 - uvicorn's signature
        # Not calling super(): uvicorn would re-raise the signal after shutting down, and the
        # contract asks for exit status 0 after a graceful stop.
        lifecycle = self.services.lifecycle
        if lifecycle.draining:  # a second signal: stop now
            self.should_exit = self.force_exit = True
            return
        lifecycle.draining = True
        delay = self.services.settings.shutdown_drain_seconds
        log.info("draining: readiness is 503; stopping in %.1fs", delay)
        asyncio.get_running_loop().call_later(delay, self._begin_shutdown)

    def _begin_shutdown(self) -> None:
        self.should_exit = True


def serve(settings: Settings) -> None:
    configure_logging(settings.log_level, "api")
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="0.0.0.0",  # noqa: S104 - inside a container, published or proxied by the platform
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        server_header=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_keep_alive=settings.keep_alive_seconds,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        log_config=None,
    )
    # Everything built so far (modules, routes, pydantic schemas: hundreds of thousands of objects)
    # lives as long as the process. Frozen out of the collector's sight, it no longer makes every
    # older-generation collection walk it: those pauses (up to tens of milliseconds) were the
    # API's own source of tail latency.
    gc.collect()
    gc.freeze()
    DrainingServer(config, app.state.services).run()
