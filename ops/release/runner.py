"""The release and rollback path: lock, image, preflight, migrations, batches, gates, rollback.

release:  lock -> image (build, stamp, push) -> preflight + migrations -> per batch: switch
          + gate -> known good, history, audit -> unlock
failure:  every host back to the release that ran before (rollback.yml), the release marked
          bad, the audit record says why -> unlock -> an OpsError for the operator
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from ops.errors import OpsError
from ops.fleet.state import FleetState
from ops.playbook import PlaybookRun, run_playbook
from ops.release import fleet_view
from ops.release.audit import AuditLog, AuditRecord
from ops.release.history import DEFAULT_KEEP, History, Release
from ops.release.image import ReleaseImage, check_version, prepare
from ops.release.lock import DeployLock, current_actor
from ops.release.plan import batches, parse_serial
from ops.release.target import ReleaseTarget

Say = Callable[[str], None]


@dataclass
class ReleaseOptions:
    serial: str = "1"
    bake_seconds: int = 20
    ready_timeout: int = 60
    keep: int = DEFAULT_KEEP
    from_image: str = ""
    lock_ttl: float = 30 * 60
    # The gate's p99 bound: this factor times the pre-release p99, never below the floor (the
    # API's latency SLO threshold, 0.25 s).
    p99_factor: float = 2.0
    p99_floor: float = 0.25


@dataclass
class Outcome:
    version: str
    previous: str
    result: str
    seconds: float
    durations: dict[str, float] = field(default_factory=dict)
    failed_requests: int | None = None


@dataclass
class _Run:
    """One release in progress: its audit record, the history it updates, what it switched."""

    record: AuditRecord
    history: History
    previous_image: str = ""
    switched: bool = False
    baseline: dict[str, float] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    began: float = field(default_factory=time.monotonic)

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.durations[phase] = time.monotonic() - started


@contextmanager
def _tags(tags: str) -> Iterator[None]:
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


class Releaser:
    def __init__(self, target: ReleaseTarget, *, say: Say = print) -> None:
        self.target = target
        self.say = say
        self.lock = DeployLock(target.lock_file, target.env)
        self.audit = AuditLog(target.audit_file)
        self.report_dir = target.releases_dir / "reports"

    # --- shared steps -------------------------------------------------------------------------

    def history(self) -> History:
        return History.load(self.target.history_file)

    def take_lock(self, purpose: str, ttl: float) -> None:
        """Take the deploy lock; a stale lock is replaced and that is audited; a live one refuses."""
        stale = self.lock.acquire(purpose, ttl=ttl)
        if stale is not None:
            self.say(f"   took over a stale lock of {stale.holder} ({stale.purpose})")
            self.audit.append(
                AuditRecord(
                    self.target.env, "lock-expired", current_actor(), result="done",
                    reason=f"stale lock of {stale.holder} ({stale.purpose}) expired and was replaced",
                )
            )  # fmt: skip

    def running(self) -> tuple[str, dict[str, fleet_view.HostView]]:
        """The one image every app host serves; refuses a fleet on mixed versions."""
        views = fleet_view.read(self.target)
        images = {view.active_image for view in views.values()}
        if len(images) != 1 or "" in images:
            where = ", ".join(f"{host}: {view.active_image or 'nothing'}" for host, view in sorted(views.items()))
            raise OpsError(
                "the app hosts do not all run the same release",
                step="read what runs where",
                detail=where,
                fix=f"bring them together first: `./deploy.sh rollback {self.target.env} --to VERSION`",
            )
        return images.pop(), views

    def _play(self, playbook: str, tags: str, extra: dict[str, object]) -> PlaybookRun:
        self.report_dir.mkdir(parents=True, exist_ok=True)
        variables = {"release_report_dir": str(self.report_dir), **extra}
        with _tags(tags):
            return run_playbook(self.target.env, playbook, extra_vars=variables, progress=self._quiet)

    def _quiet(self, message: str) -> None:
        # The gate's probe loop "fails" by design when every probe answered 200 (it is ignored).
        if "failed:" in message and "Probe the API through nginx" not in message:
            self.say(message)

    def _gate_report(self) -> dict[str, object]:
        path = self.report_dir / "gate.json"
        try:
            data: dict[str, object] = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        return data

    def _baseline(self) -> dict[str, float]:
        try:
            data = json.loads((self.report_dir / "baseline.json").read_text())
            return {key: float(value) for key, value in data.items()}
        except (OSError, ValueError, AttributeError):
            return {}

    def _switch_all(self, image: str, began: float) -> None:
        """rollback.yml: every app host to `image` at once, probed through nginx afterwards."""
        self._play(
            "rollback.yml",
            "switch,gate",
            {
                "release_image": image,
                "release_bake_seconds": 4,
                "release_gate_levels": False,
                "release_elapsed_seconds": int(time.monotonic() - began) + 30,
            },
        )

    # --- release ------------------------------------------------------------------------------

    def release(self, version: str, options: ReleaseOptions) -> Outcome:
        check_version(version)
        parse_serial(options.serial)
        state = self.target.fleet_state()
        if state is None:
            raise OpsError(
                f"{self.target.env} has no fleet registry on this machine to push the release image to",
                step="find the registry",
                fix="run the release from the machine that created the environment (`./deploy.sh local --env ENV`)",
            )
        run = _Run(AuditRecord(self.target.env, "release", current_actor(), to_version=version), self.history())
        self.take_lock(f"release {version}", options.lock_ttl)
        try:
            image = self._prepare(run, version, state, options)
            self._roll_out(run, image, options)
        except (OpsError, KeyboardInterrupt) as failure:
            self._undo(run, version, _reason(failure))
            raise OpsError(
                f"release {version} to {self.target.env} failed; every app host is back on "
                f"{run.record.from_version or 'the previous release'}"
                if run.record.result == "rolled-back" or not run.switched
                else f"release {version} to {self.target.env} failed and so did its rollback",
                step="release",
                detail=run.record.reason,
                fix=f"see `./deploy.sh history {self.target.env}`; fix the cause, then release again",
            ) from (failure if isinstance(failure, OpsError) else None)
        finally:
            self.lock.release()
        return self._succeeded(run, version, image, options)

    def _prepare(self, run: _Run, version: str, state: FleetState, options: ReleaseOptions) -> ReleaseImage:
        """What runs now, the release image, preflight and migrations."""
        run.previous_image, views = self.running()
        previous = run.history.find_image(run.previous_image) or Release(
            fleet_view.version_of(run.previous_image), run.previous_image, "", known_good=True
        )
        run.record.from_version = previous.version
        if run.history.find(previous.version) is None:
            run.history.record(previous)
        run.history.current = previous.version
        self.say(f"   running {previous.version} on {', '.join(sorted(views))}")
        with run.timed("image"):
            image = prepare(version, state, from_image=options.from_image)
        self.say(f"   image {image.pull_name} ({run.durations['image']:.0f}s)")
        run.history.record(Release(version, image.pull_name, image.commit))
        run.history.save(self.target.history_file)
        return image

    def _roll_out(self, run: _Run, image: ReleaseImage, options: ReleaseOptions) -> None:
        """One rollout.yml run per batch; the first also runs the preflight and the migrations."""
        marker = self.report_dir / "switch-started"
        marker.unlink(missing_ok=True)
        (self.report_dir / "gate.json").unlink(missing_ok=True)  # a report always belongs to this run
        for number, batch in enumerate(batches(self.target.app_hosts(), options.serial), 1):
            tags = "preflight,migrate,switch,gate" if number == 1 else "switch,gate"
            try:
                with run.timed(f"batch_{number}"):
                    self._play("rollout.yml", tags, self._batch_vars(image, batch, run, options, first=number == 1))
            finally:
                # Hosts may have moved once the switch play started; before that nothing changed.
                run.switched = marker.exists()
            if number == 1:
                run.baseline = self._baseline()
            took = run.durations[f"batch_{number}"]
            self.say(f"   batch {number} ({', '.join(batch)}) switched and passed its gate ({took:.0f}s)")

    def _succeeded(self, run: _Run, version: str, image: ReleaseImage, options: ReleaseOptions) -> Outcome:
        report = self._gate_report()
        released = run.history.find(version)
        if released is not None:
            released.known_good, released.bad_reason = True, ""
        run.history.current = version
        dropped = run.history.prune(options.keep)
        run.history.save(self.target.history_file)
        run.durations["total"] = time.monotonic() - run.began
        record = run.record
        record.result, record.durations = "released", run.durations
        record.failed_requests = _int_or_none(report.get("failed_requests"))
        record.details = {"image": image.pull_name, "serial": options.serial, "gate": report,
                          "pruned": [release.version for release in dropped]}  # fmt: skip
        self.audit.append(record)
        return Outcome(version, record.from_version, "released", run.durations["total"], run.durations,
                       record.failed_requests)  # fmt: skip

    def _batch_vars(
        self, image: ReleaseImage, batch: list[str], run: _Run, options: ReleaseOptions, *, first: bool
    ) -> dict[str, object]:
        # The first run measures the pre-release level itself (preflight); later runs get it here.
        baseline = {} if first else {
            "release_baseline_error_ratio": run.baseline.get("error_ratio", -1.0),
            "release_baseline_p99": run.baseline.get("p99_seconds", -1.0),
        }  # fmt: skip
        return baseline | {
            "release_image": image.pull_name,
            "release_batch": ",".join(batch),
            "release_bake_seconds": options.bake_seconds,
            "app_release_ready_timeout": options.ready_timeout,
            "release_p99_factor": options.p99_factor,
            "release_p99_floor": options.p99_floor,
            "release_elapsed_seconds": int(time.monotonic() - run.began) + options.bake_seconds + 30,
        }

    def _undo(self, run: _Run, version: str, reason: str) -> None:
        """Put every host back on the previous image (when any host may have moved), audit why."""
        record = run.record
        self.say(f"   release failed: {reason.splitlines()[0] if reason else 'interrupted'}")
        bad = run.history.find(version)
        if bad is not None:
            bad.known_good, bad.bad_reason = False, reason[:500]
        record.reason = reason[:2000]
        if run.switched and run.previous_image:
            self.say(f"   rolling every app host back to {record.from_version}")
            record.action = "auto-rollback"
            with run.timed("rollback"):
                try:
                    self._switch_all(run.previous_image, run.began)
                    record.result = "rolled-back"
                except (OpsError, KeyboardInterrupt) as again:
                    record.result = "failed"
                    record.reason += f"\nrollback failed too: {_reason(again)}"
        else:
            record.result = "failed"  # nothing had switched: every host still runs the previous release
        run.history.current = record.from_version or run.history.current
        with suppress(OSError):
            run.history.save(self.target.history_file)
        record.failed_requests = _int_or_none(self._gate_report().get("failed_requests"))
        run.durations["total"] = time.monotonic() - run.began
        record.durations = run.durations
        self.audit.append(record)

    # --- rollback -----------------------------------------------------------------------------

    def rollback(self, to: str | None, *, lock_ttl: float = 30 * 60) -> Outcome:
        began = time.monotonic()
        history = self.history()
        record = AuditRecord(self.target.env, "rollback", current_actor())
        self.take_lock(f"rollback to {to or 'last known good'}", lock_ttl)
        try:
            current_image, _ = self._running_or_any()
            current = history.find_image(current_image)
            history.current = current.version if current else history.current
            goal = history.rollback_target(to)
            record.from_version = current.version if current else fleet_view.version_of(current_image)
            record.to_version = goal.version
            self.say(f"   rolling back {record.from_version} -> {goal.version}")
            self._switch_all(goal.image, began)
        except (OpsError, KeyboardInterrupt) as failure:
            record.result, record.reason = "failed", _reason(failure)
            record.durations = {"total": time.monotonic() - began}
            self.audit.append(record)
            raise
        finally:
            self.lock.release()
        history.current = goal.version
        history.save(self.target.history_file)
        record.result = "rolled-back"
        record.durations = {"total": time.monotonic() - began}
        record.failed_requests = _int_or_none(self._gate_report().get("failed_requests"))
        self.audit.append(record)
        return Outcome(goal.version, record.from_version, "rolled-back", record.durations["total"], record.durations,
                       record.failed_requests)  # fmt: skip

    def _running_or_any(self) -> tuple[str, dict[str, fleet_view.HostView]]:
        """A rollback also repairs a mixed fleet: take the first host's image as the current one."""
        views = fleet_view.read(self.target)
        first = views[sorted(views)[0]]
        return first.active_image, views

    # --- lock commands ------------------------------------------------------------------------

    def break_lock(self) -> str:
        held = self.lock.break_lock()
        if held is None:
            return f"{self.target.env} was not locked"
        self.audit.append(
            AuditRecord(self.target.env, "lock-broken", current_actor(), result="done",
                        reason=f"broke the lock of {held.holder} ({held.purpose})")
        )  # fmt: skip
        return f"{self.target.env}: broke the lock of {held.describe(time.time())}"


def _reason(failure: BaseException) -> str:
    if isinstance(failure, KeyboardInterrupt):
        return "interrupted (Ctrl-C or a cancelled job)"
    if isinstance(failure, OpsError):
        where = f" on {failure.host}" if failure.host else ""
        return f"{failure.message}{where}" + (f": {failure.detail}" if failure.detail else "")
    return str(failure)


def _int_or_none(value: object) -> int | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return None if number < 0 else round(number)


def report_path(target: ReleaseTarget) -> Path:
    return target.releases_dir / "reports"
