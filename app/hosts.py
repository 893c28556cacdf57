"""Host header checking (TRUSTED_HOSTS), with the platform's own endpoints exempt.

Load balancers, kubelets and Prometheus reach /health/* and /metrics by IP address, so those
answer whatever the Host header says; every other path must name an allowed host (an exact name
or a `*.example.com` wildcard), or gets a 400 in the API's JSON error shape.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import error_response

PLATFORM_PATHS = ("/health/", "/metrics")


class TrustedHostsMiddleware:
    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.exact = {host for host in allowed_hosts if not host.startswith("*.")}
        self.suffixes = tuple(host[1:] for host in allowed_hosts if host.startswith("*."))

    def allows(self, host: str) -> bool:
        return host in self.exact or (bool(self.suffixes) and host.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(PLATFORM_PATHS):
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "").split(":")[0]
        if self.allows(host):
            await self.app(scope, receive, send)
            return
        response = error_response(400, "bad_request", f"host {host!r} is not served here (TRUSTED_HOSTS)")
        await response(scope, receive, send)
