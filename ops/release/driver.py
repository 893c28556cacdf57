"""What the release engine needs from a platform: one small interface, one driver per platform.

`HostsDriver` (ops/release/hosts_driver.py) releases VM-style hosts through Ansible;
`KubernetesDriver` (ops/release/kubernetes_driver.py) releases a kubernetes stack through Pulumi
and kubectl. Both share the engine's lock, journal, history and audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ops.release.image import ReleaseImage
from ops.release.traffic import TrafficLog


@dataclass(frozen=True)
class BatchSettings:
    bake_seconds: int
    ready_timeout: int
    p99_factor: float
    p99_floor: float


@dataclass(frozen=True)
class SwitchResult:
    done: list[str]
    missed: list[str]  # unreachable or failed: `resume` finishes them
    problems: str  # what went wrong, for the audit record ("" when nothing did)
    # When nginx started sending every request to `image` (time.monotonic()), if the switch knows.
    traffic_at: float = 0.0


class ReleaseDriver(Protocol):
    """What the engine needs from a platform (HostsDriver: VM-style hosts through Ansible)."""

    def hosts(self) -> list[str]: ...
    def read(self) -> tuple[dict[str, str], list[str]]: ...
    def check_can_release(self, *, canary: bool = False, config_only: bool = False) -> None: ...
    def prepare(self, version: str, from_image: str) -> ReleaseImage: ...
    def local_image(self, image: str) -> str: ...  # the local tag `image` was pushed from ("" if not here)
    def forget_reports(self) -> None: ...
    def gate_report(self) -> dict[str, object]: ...
    def baseline(self) -> dict[str, float]: ...
    def roll_out(
        self, image: str, batch: list[str], settings: BatchSettings, *, first: bool, baseline: dict[str, float],
        elapsed: float,
    ) -> None: ...  # fmt: skip
    def switch(self, image: str, hosts: list[str], *, elapsed: float) -> SwitchResult: ...
    # Canary releases (a platform without them raises an OpsError saying so).
    def traffic(self) -> TrafficLog: ...
    def start_canary(self, image: str, settings: BatchSettings, *, weight: int) -> None: ...
    def weigh_canary(self, image: str, weight: int) -> None: ...
    def promote(self, image: str, hosts: list[str], settings: BatchSettings, *, elapsed: float) -> None: ...
