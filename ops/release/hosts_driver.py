"""The release driver for VM-style platforms (local fleet, aws, any inventory of hosts).

It reads what each app host runs, prepares the release image, rolls one batch out with
playbooks/rollout.yml, and switches a set of hosts to an image with playbooks/rollback.yml, host by
host and best effort: an unreachable host is reported, never a reason to leave the others.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ops import images
from ops.docker_cli import exists
from ops.errors import OpsError
from ops.playbook import PlaybookRun, failure_error, run_playbook
from ops.release import fleet_view
from ops.release.driver import BatchSettings, SwitchResult
from ops.release.image import ReleaseImage, prepare
from ops.release.target import ReleaseTarget
from ops.release.traffic import TrafficLog

Say = Callable[[str], None]

# A warm switch trusts what each host ran only when it was read this recently (by the same command).
VIEWS_FRESH_SECONDS = 60.0


def _completed(done_file: Path, image: str) -> set[str]:
    """The hosts rollback.yml reports as moved to `image` (none when it never got that far)."""
    try:
        data = json.loads(done_file.read_text())
    except (OSError, ValueError):
        return set()
    return set(data.get("hosts", [])) if isinstance(data, dict) and data.get("image") == image else set()


@contextmanager
def run_tags(tags: str) -> Iterator[None]:
    """Run only the plays tagged `tags` (ansible-playbook reads ANSIBLE_RUN_TAGS)."""
    before = os.environ.get("ANSIBLE_RUN_TAGS")
    os.environ["ANSIBLE_RUN_TAGS"] = tags
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("ANSIBLE_RUN_TAGS", None)
        else:
            os.environ["ANSIBLE_RUN_TAGS"] = before


class HostsDriver:
    def __init__(self, target: ReleaseTarget, say: Say) -> None:
        self.target = target
        self.say = say
        self.reports = target.reports_dir
        self._views: dict[str, fleet_view.HostView] = {}
        self._views_at = 0.0

    def hosts(self) -> list[str]:
        return self.target.app_hosts()

    def read(self) -> tuple[dict[str, str], list[str]]:
        """The image each reachable app host serves from its active slot, and the unreachable hosts."""
        views, unreachable = fleet_view.read_reachable(self.target)
        self._views, self._views_at = views, time.monotonic()  # a switch right after may use the warm slots
        return {host: view.active_image for host, view in views.items()}, unreachable

    def check_can_release(self, *, canary: bool = False, config_only: bool = False) -> None:  # noqa: ARG002
        """Refuse before the lock is taken when this machine cannot push the release image."""
        if self.target.fleet_state() is None:
            raise OpsError(
                f"{self.target.env} has no fleet registry on this machine to push the release image to",
                step="find the registry",
                fix="run the release from the machine that created the environment (`./deploy.sh up ENV`)",
            )

    def prepare(self, version: str, from_image: str) -> ReleaseImage:
        self.check_can_release()
        state = self.target.fleet_state()
        assert state is not None
        return prepare(version, state, from_image=from_image)

    def local_image(self, image: str) -> str:
        local = f"{images.APP_REPOSITORY}:{image.rsplit(':', 1)[-1]}"
        return local if exists("image", local) else ""

    # --- playbooks -------------------------------------------------------------------------------

    def _play(self, playbook: str, tags: str, extra: dict[str, object], *, check: bool = True) -> PlaybookRun:
        self.reports.mkdir(parents=True, exist_ok=True)
        variables = {"release_report_dir": str(self.reports), **extra}
        with run_tags(tags):
            return run_playbook(self.target.env, playbook, extra_vars=variables, progress=self._quiet, check=check)

    def _quiet(self, message: str) -> None:
        # The gate's probe loop "fails" by design when every probe answered 200 (it is ignored).
        if "failed:" in message and "Probe the API through nginx" not in message:
            self.say(message)

    def forget_reports(self) -> None:
        (self.reports / "gate.json").unlink(missing_ok=True)  # a report always belongs to this run

    def gate_report(self) -> dict[str, object]:
        try:
            data: dict[str, object] = json.loads((self.reports / "gate.json").read_text())
        except (OSError, ValueError):
            return {}
        return data

    def baseline(self) -> dict[str, float]:
        try:
            data = json.loads((self.reports / "baseline.json").read_text())
            return {key: float(value) for key, value in data.items()}
        except (OSError, ValueError, AttributeError):
            return {}

    def roll_out(
        self, image: str, batch: list[str], settings: BatchSettings, *, first: bool, baseline: dict[str, float],
        elapsed: float,
    ) -> None:  # fmt: skip
        """One rollout.yml run for a batch; the first also runs the preflight (every host) and migrations."""
        levels = {} if first else {
            "release_baseline_error_ratio": baseline.get("error_ratio", -1.0),
            "release_baseline_p99": baseline.get("p99_seconds", -1.0),
        }  # fmt: skip
        self._play(
            "rollout.yml",
            "preflight,migrate,switch,gate" if first else "switch,gate",
            levels | {
                "release_image": image,
                "release_batch": ",".join(batch),
                "release_bake_seconds": settings.bake_seconds,
                "app_release_ready_timeout": settings.ready_timeout,
                "release_p99_factor": settings.p99_factor,
                "release_p99_floor": settings.p99_floor,
                "release_elapsed_seconds": int(elapsed) + settings.bake_seconds + 30,
            },
        )  # fmt: skip

    def traffic(self) -> TrafficLog:
        return TrafficLog({host: self.target.ssh(host) for host in self.target.group_hosts("lb")})

    def start_canary(self, image: str, settings: BatchSettings, *, weight: int) -> None:
        """Preflight and migrations, the image started beside the active slot of every app host,
        and `weight` percent of the requests sent to it."""
        self._play(
            "canary.yml",
            "preflight,migrate,canary-start",
            {"release_image": image, "release_canary_weight": weight,
             "app_release_ready_timeout": settings.ready_timeout},
        )  # fmt: skip

    def weigh_canary(self, image: str, weight: int) -> None:
        self._play("canary.yml", "canary-weight", {"release_image": image, "release_canary_weight": weight})

    def promote(self, image: str, hosts: list[str], settings: BatchSettings, *, elapsed: float) -> None:
        """Every app host switches to its canary slot (running already), checked by probes through nginx."""
        self._play(
            "rollout.yml",
            "switch,gate",
            {"release_image": image, "release_batch": ",".join(hosts), "release_bake_seconds": 4,
             "release_gate_levels": False, "app_release_ready_timeout": settings.ready_timeout,
             "release_elapsed_seconds": int(elapsed) + 30},
        )  # fmt: skip

    def switch(self, image: str, hosts: list[str], *, elapsed: float) -> SwitchResult:
        """rollback.yml: `hosts` to `image` at once, best effort, probed through nginx afterwards.

        Needs no monitoring host. A host that is unreachable or fails is reported in `missed`; an
        lb failure means nginx may not serve what the hosts run, which is an error."""
        started = time.monotonic()
        traffic_at = self._flip_to_warm_slots(image, hosts)
        done_file = self.reports / "switch-done.json"
        done_file.unlink(missing_ok=True)
        run = self._play(
            "rollback.yml",
            "switch,gate",
            {
                "release_image": image,
                "release_batch": ",".join(hosts),
                "release_bake_seconds": 4,
                "release_gate_levels": False,
                "release_elapsed_seconds": int(elapsed) + 30,
            },
            check=False,
        )
        failed = {failure.host for failure in run.failures}
        completed = _completed(done_file, image)
        missed = [
            host for host in hosts
            if host not in completed or host not in run.recap or run.recap[host].unreachable or host in failed
        ]  # fmt: skip
        lb_failed = [host for host in self.target.group_hosts("lb") if host in failed]
        if lb_failed or (run.returncode != 0 and not run.recap):
            raise failure_error(run, "rollback.yml")
        others = sorted(failed - set(hosts))
        problems = "; ".join(
            [f"{host} unreachable or failed" for host in missed]
            + [f"{failure.host}: {failure.task}: {failure.message.splitlines()[0] if failure.message else ''}"
               for failure in run.failures if failure.host in others]
        )  # fmt: skip
        done = sorted(set(hosts) - set(missed))
        took = time.monotonic() - started
        left = f"; missed {', '.join(missed)}" if missed else ""
        self.say(f"   switched {', '.join(done) or 'no host'} in {took:.0f}s{left}")
        return SwitchResult(done, missed, problems, traffic_at)

    def _flip_to_warm_slots(self, image: str, hosts: list[str]) -> float:
        """When every app host's idle slot still runs `image`, nginx is switched to those slots at once
        (slipway-upstream-flip on each lb, no Ansible); rollback.yml then finds them serving and
        only records the switch, moves the workers and stops the slots left. Returns when nginx
        switched (time.monotonic()), or 0.0 when the slots were not all warm or a flip failed."""
        views, self._views = self._views, {}
        fresh = time.monotonic() - self._views_at < VIEWS_FRESH_SECONDS
        every_host = set(views) == set(hosts) == set(self.target.app_hosts())
        if not fresh or not every_host or not all(views[host].warm_slot(image) for host in hosts):
            return 0.0
        for lb in self.target.group_hosts("lb"):
            done = subprocess.run(
                [*self.target.ssh(lb), "sudo -n /usr/local/sbin/slipway-upstream-flip"],
                capture_output=True, text=True, check=False, timeout=60,
            )  # fmt: skip
            if done.returncode != 0:
                self.say(f"   {lb}: the warm switch did not run ({done.stderr.strip()[-200:]}); switching with Ansible")
                return 0.0
        warm = ", ".join(f"{host}: {views[host].warm_slot(image)}" for host in hosts)
        self.say(f"   nginx serves the slots kept warm ({warm})")
        return time.monotonic()
