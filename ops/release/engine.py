"""The release engine: release, rollback, resume and abort, crash-safe, with state on the fleet.

release:  lock (a renewed lease) -> audit "running", journal -> image -> per batch (the first
          with preflight and migrations): journal, switch + gate -> history, journal done, audit
          "released" -> unlock
canary:   the same, but instead of batches: the new version starts beside the old one on every
          app host, nginx sends it a growing share of the requests (5% -> 25% -> 50% by
          default), and after each step's bake the requests each version answered are compared
          (ops/release/analysis.py): worse is a failure (rolled back as above), too few to judge
          bakes longer and then pauses the release for a person (`promote` or `abort`), never a
          pass; after the last step every host switches to the new version
failure:  any error, exception or signal (SIGINT, SIGTERM, SIGHUP): every host that may have
          moved goes back to the previous image, host by host (no monitoring needed; an
          unreachable host is reported and left to `resume`), the release is marked bad, the
          audit record says why -> unlock -> an OpsError for the operator
killed:   (SIGKILL, a lost controller) the journal stays unfinished and the lease lapses;
          `status` shows where the hosts differ from it, `resume` brings every host to the
          journal's goal, `abort` brings every host back to where the release started
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from ops.errors import OpsError
from ops.release.analysis import GatePolicy, Request, Verdict, judge
from ops.release.audit import AuditRecord
from ops.release.driver import BatchSettings, ReleaseDriver, SwitchResult
from ops.release.fleet_view import version_of
from ops.release.history import DEFAULT_KEEP, History, Release, VersionTakenError
from ops.release.image import check_version
from ops.release.journal import DONE, MOVING, ON_GOAL, ROLLING_BACK, ROLLING_OUT, UNREACHABLE, WAITING, Journal
from ops.release.lock import DEFAULT_TTL_SECONDS, Lease, LeaseLostError, LockInfo, current_actor
from ops.release.plan import batches, parse_serial
from ops.release.signals import ReleaseInterruptedError, interruptible, shielded
from ops.release.store import ReleaseStore, Snapshot
from ops.release.traffic import TrafficLog

Say = Callable[[str], None]

# A canary step's bake: at 60 requests/s, 45 s per step catches a route failing 2% of its
# requests in 98% of releases (`make bench-gate`); 30 s in only about 95%.
DEFAULT_STEP_SECONDS = 45
# How often a baking canary looks for a pause request (`./deploy.sh pause ENV`).
PAUSE_CHECK_SECONDS = 5.0


@dataclass
class ReleaseOptions:
    serial: str = "1"
    bake_seconds: int = 20
    ready_timeout: int = 60
    keep: int = DEFAULT_KEEP
    from_image: str = ""
    lease_seconds: float = DEFAULT_TTL_SECONDS
    # The gate's p99 bound: this factor times the pre-release p99, never below the floor (the
    # API's latency SLO threshold, 0.25 s).
    p99_factor: float = 2.0
    p99_floor: float = 0.25
    # A canary instead of batches: the percentages of requests the new version gets, in order
    # (empty: batches of `serial` hosts).
    canary: tuple[int, ...] = ()
    step_seconds: int = DEFAULT_STEP_SECONDS
    # Bakes of `step_seconds` added to a step whose traffic is too thin to judge, before pausing.
    extensions: int = 2
    # The canary's first seconds of requests are judged on their errors only: a fresh slot's first
    # requests open its database and cache connections, which is not the version's latency.
    warmup_seconds: float = 15.0
    policy: GatePolicy = field(default_factory=GatePolicy)
    # Ship the environment staged from the inventory with the running release's image, as a
    # release of its own (a new version), instead of a new image.
    config_only: bool = False


DEFAULT_CANARY_STEPS = (5, 25, 50)


def parse_canary_steps(text: str) -> tuple[int, ...]:
    """`5,25,50` -> (5, 25, 50): rising percentages between 1 and 99."""
    try:
        steps = tuple(int(part) for part in text.split(","))
    except ValueError:
        steps = ()
    if not steps or any(not 0 < step < 100 for step in steps) or list(steps) != sorted(set(steps)):
        raise OpsError(
            f"--canary {text!r} is not a list of rising percentages",
            step="read the options",
            fix="give the shares of requests the new version gets at each step, e.g. --canary 5,25,50 "
            "(each between 1 and 99; the switch to 100% follows the last step)",
        )
    return steps


class CanaryPausedError(Exception):
    """The canary waits for a person: its traffic stayed too thin to judge, or someone asked."""

    def __init__(self, weight: int, why: str) -> None:
        super().__init__(f"the canary at {weight}% {why}")
        self.weight = weight


@dataclass
class Outcome:
    version: str
    previous: str
    result: str
    seconds: float
    durations: dict[str, float] = field(default_factory=dict)
    failed_requests: int | None = None
    missed: list[str] = field(default_factory=list)


@dataclass
class _Run:
    """One command in progress under the lock: its lease, audit record, journal and history."""

    lease: Lease
    record: AuditRecord
    history: History
    journal: Journal | None = None
    durations: dict[str, float] = field(default_factory=dict)
    began: float = field(default_factory=time.monotonic)

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.durations[phase] = time.monotonic() - started

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def save(self) -> None:
        """Journal, history and audit record in one fenced write."""
        self.record.durations = {**self.durations, "total": self.elapsed}
        state = {"history": self.history.to_dict(), "audit": self.record.to_dict()}
        if self.journal is not None:  # a run refused before its journal began leaves the last one
            state["journal"] = self.journal.to_dict()
        self.lease.commit(**state)


class Releaser:
    """Release, rollback, resume and abort for one environment, through its driver and store."""

    def __init__(self, env: str, store: ReleaseStore, driver: ReleaseDriver, *, say: Say = print) -> None:
        self.env = env
        self.store = store
        self.driver = driver
        self.say = say

    # --- the lock ----------------------------------------------------------------------------------

    @contextmanager
    def _locked(self, purpose: str, lease_seconds: float) -> Iterator[tuple[Lease, Snapshot]]:
        lease, replaced = self.store.acquire(purpose, ttl=lease_seconds)
        try:
            lease.start_renewing()
            self._audit_takeover(lease, replaced)
            yield lease, self.store.snapshot()
        finally:
            with suppress(OpsError):
                lease.release()

    def _audit_takeover(self, lease: Lease, replaced: LockInfo | None) -> None:
        if replaced is None:
            return
        self.say(f"   took over the lapsed lock of {replaced.holder} ({replaced.purpose})")
        reason = f"the lease of {replaced.holder} ({replaced.purpose}) lapsed and was taken over"
        record = AuditRecord(self.env, "lock-expired", current_actor(), result="done", reason=reason)
        record.finish("done")
        lease.commit(audit=record.to_dict())

    def _refuse_unfinished(self, snapshot: Snapshot) -> None:
        journal = snapshot.journal
        if journal is not None and not journal.finished:
            raise OpsError(
                f"the {journal.action} {journal.from_version} -> {journal.to_version} by {journal.holder} "
                f"did not finish (phase {journal.phase})",
                step="read the journal",
                fix=f"finish it with `./deploy.sh resume {self.env}` or undo it with `./deploy.sh abort {self.env}`"
                f" (`./deploy.sh status {self.env}` shows where the hosts stand)",
            )

    # --- release -----------------------------------------------------------------------------------

    def release(self, version: str, options: ReleaseOptions) -> Outcome:
        check_version(version)
        parse_serial(options.serial)
        self.driver.check_can_release(canary=bool(options.canary), config_only=options.config_only)
        hosts = self.driver.hosts()
        settings = BatchSettings(options.bake_seconds, options.ready_timeout, options.p99_factor, options.p99_floor)
        with interruptible(), self._locked(f"release {version}", options.lease_seconds) as (lease, snapshot):
            self._refuse_unfinished(snapshot)
            run = _Run(lease, AuditRecord(self.env, "release", current_actor(), to_version=version), snapshot.history)
            try:
                self._release(run, version, hosts, options, settings)
            except LeaseLostError:
                raise
            except CanaryPausedError as paused:
                raise self._paused(run, version, paused) from None
            except VersionTakenError as taken:  # refused before any host moved: nothing to undo or mark bad
                if run.journal is not None:
                    run.journal.phase = DONE
                run.record.finish("refused", taken.message)
                run.save()
                raise
            except BaseException as failure:  # errors, exceptions and signals all roll back
                with shielded():
                    self._undo(run, _reason(failure))
                raise self._failed(run, version) from (failure if isinstance(failure, Exception) else None)
        return Outcome(version, run.record.from_version, "released", run.elapsed, run.durations,
                       run.record.failed_requests)  # fmt: skip

    def _release(
        self, run: _Run, version: str, hosts: list[str], options: ReleaseOptions, settings: BatchSettings
    ) -> None:
        previous_image = self._one_image(hosts)
        history, record = run.history, run.record
        previous = history.find_image(previous_image)
        if previous is None:  # deployed outside a release (site.yml): what runs is the truth
            previous = Release(version_of(previous_image), previous_image, "", known_good=True)
            history.record(previous)
        record.from_version = previous.version
        history.make_current(previous.version)
        run.journal = Journal("release", record.id, record.actor, previous.version, previous_image, version,
                              options={"serial": options.serial, "bake_seconds": options.bake_seconds,
                                       "canary": list(options.canary)})  # fmt: skip
        run.save()  # the audit record says "running" from here on, whatever happens next
        self.say(f"   running {previous.version} on {', '.join(hosts)}")
        with run.timed("image"):
            image = self.driver.prepare(version, self._config_only_base(previous_image) if options.config_only
                                        else options.from_image)  # fmt: skip
        self.say(f"   image {image.pull_name} ({run.durations['image']:.0f}s)")
        history.check_unused(version, image.content)
        history.record(Release(version, image.pull_name, image.commit, content=image.content))
        run.journal.to_image = image.pull_name
        run.journal.aim(ROLLING_OUT, image.pull_name, hosts)
        run.save()
        self.driver.forget_reports()
        if options.canary:
            self._canary(run, image.pull_name, hosts, options, settings)
        else:
            self._batches(run, image.pull_name, hosts, options, settings)
        released = history.find(version)
        if released is not None:
            released.known_good, released.bad_reason = True, ""
        history.make_current(version)
        dropped = history.prune(options.keep)
        report = self.driver.gate_report()
        run.journal.phase = DONE
        run.record.failed_requests = _int_or_none(report.get("failed_requests"))
        run.record.details = {**run.record.details, "image": image.pull_name, "serial": options.serial,
                              "gate": report, "pruned": [release.version for release in dropped]}  # fmt: skip
        run.record.finish("released")
        run.save()

    def _batches(
        self, run: _Run, image: str, hosts: list[str], options: ReleaseOptions, settings: BatchSettings
    ) -> None:
        assert run.journal is not None
        baseline: dict[str, float] = {}
        for number, batch in enumerate(batches(hosts, options.serial), 1):
            run.journal.mark(batch, MOVING)
            run.save()
            with run.timed(f"batch_{number}"):
                self.driver.roll_out(image, batch, settings, first=number == 1, baseline=baseline,
                                     elapsed=run.elapsed)  # fmt: skip
            if number == 1:
                baseline = self.driver.baseline()
            run.journal.mark(batch, ON_GOAL)
            run.save()
            took = run.durations[f"batch_{number}"]
            self.say(f"   batch {number} ({', '.join(batch)}) switched and passed its gate ({took:.0f}s)")

    def _canary(
        self, run: _Run, image: str, hosts: list[str], options: ReleaseOptions, settings: BatchSettings
    ) -> None:
        """Every host runs the new version beside the old; nginx shifts requests to it step by step."""
        assert run.journal is not None
        traffic = self.driver.traffic()
        marks = traffic.mark()  # both versions are judged on what nginx logs from here on
        run.journal.mark(hosts, MOVING)
        run.save()
        steps: list[dict[str, object]] = []
        for number, weight in enumerate(options.canary):
            with run.timed(f"canary_{weight}"):
                if number == 0:
                    self.driver.start_canary(image, settings, weight=weight)
                else:
                    self.driver.weigh_canary(image, weight)
                verdict = self._bake(traffic, marks, options, weight)
            steps.append({"weight": weight, "outcome": verdict.outcome, "reasons": list(verdict.reasons),
                          "figures": verdict.figures})  # fmt: skip
            run.record.details["canary"] = steps
            run.save()
            self.say(f"   canary at {weight}%: {verdict.outcome}: {'; '.join(verdict.reasons)}")
            if verdict.outcome == "fail":
                raise OpsError(
                    f"the canary failed its analysis at {weight}%",
                    step="canary analysis",
                    detail="; ".join(verdict.reasons),
                    fix=f"the new version answers worse than the old: `./deploy.sh history {self.env}` has the figures",
                )
            if verdict.outcome != "pass":
                raise CanaryPausedError(weight, f"saw too few requests to judge: {'; '.join(verdict.reasons)}")
        with run.timed("promote"):
            self.driver.promote(image, hosts, settings, elapsed=run.elapsed)
        run.journal.mark(hosts, ON_GOAL)
        run.save()
        self.say(f"   promoted: every app host serves the new version ({run.durations['promote']:.0f}s)")

    def _bake(
        self, traffic: TrafficLog, marks: dict[str, dict[str, int]], options: ReleaseOptions, weight: int
    ) -> Verdict:
        """Judge everything since the canary began after each bake; thin traffic bakes longer."""

        def bake_and_judge() -> Verdict:
            ends = time.monotonic() + options.step_seconds
            while (left := ends - time.monotonic()) > 0:
                time.sleep(min(left, PAUSE_CHECK_SECONDS))
                asked = self.store.snapshot(last_audit=1).pause_requested_by
                if asked:
                    raise CanaryPausedError(weight, f"was paused by {asked}")
            seen = traffic.since(marks)
            return judge(seen.baseline, seen.canary, options.policy, latency_canary=_warm(seen.canary, options))

        verdict = bake_and_judge()
        for _ in range(options.extensions):
            if verdict.outcome != "inconclusive":
                break
            self.say(f"   canary at {weight}%: {'; '.join(verdict.reasons)}: baking {options.step_seconds}s longer")
            verdict = bake_and_judge()
        return verdict

    def _paused(self, run: _Run, version: str, paused: CanaryPausedError) -> OpsError:
        """The journal stays unfinished: hosts run both versions until `promote` or `abort`."""
        run.record.finish("paused", str(paused))
        run.save()
        return OpsError(
            f"the canary of {version} on {self.env} is paused at {paused.weight}%",
            step="canary analysis",
            detail=str(paused),
            fix=f"send it more traffic and judge by hand, then `./deploy.sh promote {self.env}` to switch every "
            f"host to {version}, or `./deploy.sh abort {self.env}` to go back",
        )

    def _config_only_base(self, running_image: str) -> str:
        """The local image the running release was stamped as: a config-only release stamps it anew."""
        local = self.driver.local_image(running_image)
        if not local:
            raise OpsError(
                f"the running image {running_image} is not on this machine",
                step="find the image to release",
                fix="run the config-only release from the machine that released the running version, or release "
                "a built image with --from-image",
            )
        return local

    def _one_image(self, hosts: list[str]) -> str:
        """The one image every app host serves; refuses an unreachable host or mixed versions."""
        running, unreachable = self.driver.read()
        images = {running.get(host, "") for host in hosts}
        if unreachable or len(images) != 1 or "" in images:
            where = ", ".join(f"{host}: {running.get(host) or 'nothing'}" for host in hosts if host in running)
            raise OpsError(
                "the app hosts are not all reachable and on the same release",
                step="preflight: read what runs where",
                detail=where + (f"; unreachable: {', '.join(unreachable)}" if unreachable else ""),
                fix=f"bring them up and together first (`./deploy.sh status {self.env}`, "
                f"`./deploy.sh rollback {self.env} --to VERSION`)",
            )
        return images.pop()

    def _undo(self, run: _Run, reason: str) -> None:
        """Every host that may have moved goes back to the previous image; the records say why."""
        journal, record = run.journal, run.record
        self.say(f"   release failed: {reason.splitlines()[0] if reason else 'interrupted'}")
        bad = run.history.find(record.to_version)
        if bad is not None:
            bad.known_good, bad.bad_reason = False, reason[:500]
        moved = [host for host, progress in journal.hosts.items() if progress != WAITING] if journal else []
        result, note = "failed", ""  # nothing had moved: every host still runs the previous release
        if journal is not None and moved and journal.phase == ROLLING_OUT:
            self.say(f"   rolling {', '.join(moved)} back to {journal.from_version}")
            record.action = "auto-rollback"
            journal.aim(ROLLING_BACK, journal.from_image, moved)
            with suppress(OpsError):
                run.save()
            with run.timed("rollback"):
                result, note = self._switch_back(run, journal, moved)
        if journal is not None and result != "incomplete":
            journal.phase = DONE
        run.history.make_current(record.from_version or run.history.current)
        record.failed_requests = _int_or_none(self.driver.gate_report().get("failed_requests"))
        record.finish(result, reason + note)
        try:
            run.save()
        except OpsError as error:
            self.say(f"   the audit record could not be written: {error.message}")

    def _switch_back(self, run: _Run, journal: Journal, hosts: list[str]) -> tuple[str, str]:
        try:
            switched = self.driver.switch(journal.goal_image, hosts, elapsed=run.elapsed)
        except Exception as error:  # the record must say why, whatever it was
            return "failed", f"\nrollback failed too: {_reason(error)}"
        if switched.traffic_at:
            run.durations["to_traffic"] = switched.traffic_at - run.began
        self._note_progress(journal, switched)
        if switched.missed:
            done, missed = ", ".join(switched.done) or "no host", ", ".join(switched.missed)
            return "incomplete", f"\nrolled back {done}; not reached: {missed} (`./deploy.sh resume {self.env}`)"
        return "rolled-back", (f"\n{switched.problems}" if switched.problems else "")

    @staticmethod
    def _note_progress(journal: Journal, switched: SwitchResult) -> None:
        journal.mark(switched.done, ON_GOAL)
        journal.mark(switched.missed, UNREACHABLE)

    def _failed(self, run: _Run, version: str) -> OpsError:
        record = run.record
        outcome = {
            "failed": f"release {version} to {self.env} failed; every app host still runs {record.from_version}",
            "rolled-back": f"release {version} to {self.env} failed; every app host is back on {record.from_version}",
            "incomplete": f"release {version} to {self.env} failed and some hosts could not be rolled back",
        }.get(record.result, f"release {version} to {self.env} failed")
        return OpsError(
            outcome,
            step="release",
            detail=record.reason,
            fix=f"`./deploy.sh resume {self.env}` once every host is back"
            if record.result == "incomplete"
            else f"see `./deploy.sh history {self.env}`; fix the cause, then release again",
        )

    # --- rollback, resume, abort -------------------------------------------------------------------

    def rollback(self, to: str | None, *, lease_seconds: float = DEFAULT_TTL_SECONDS) -> Outcome:
        """Every app host to the last known-good (or the named) release; runs to its end once started."""
        began = time.monotonic()  # a warm switch's `to_traffic` counts from the command's start
        hosts = self.driver.hosts()
        with shielded(), self._locked(f"rollback to {to or 'last known good'}", lease_seconds) as (lease, snapshot):
            running, unreachable = self.driver.read()
            history = snapshot.history
            current_image = running.get(next((host for host in hosts if host in running), ""), "")
            current = history.find_image(current_image)
            history.current = current.version if current else history.current
            goal = history.rollback_target(to)
            record = AuditRecord(self.env, "rollback", current_actor(), to_version=goal.version,
                                 from_version=current.version if current else version_of(current_image))  # fmt: skip
            if current is not None and current.version != goal.version:
                # Rolled back from: bad, so the next rollback goes further back, not forward to it.
                current.known_good = False
                current.bad_reason = f"rolled back from by {record.actor} to {goal.version}"
            run = _Run(lease, record, history, began=began)
            run.journal = Journal("rollback", record.id, record.actor, record.from_version, current_image,
                                  goal.version, goal.image)  # fmt: skip
            run.journal.aim(ROLLING_OUT, goal.image, hosts)
            run.save()
            self.say(f"   rolling back {record.from_version} -> {goal.version}")
            return self._finish(run, [host for host in hosts if host not in unreachable], unreachable,
                                success="rolled-back", version=goal.version)  # fmt: skip

    def resume(self, *, lease_seconds: float = DEFAULT_TTL_SECONDS) -> Outcome:
        """Bring every app host to the goal of the unfinished (or incomplete) journal."""
        return self._from_journal("resume", lease_seconds)

    def abort(self, *, lease_seconds: float = DEFAULT_TTL_SECONDS) -> Outcome:
        """Bring every app host back to where the unfinished journal started."""
        return self._from_journal("abort", lease_seconds)

    def _from_journal(self, action: str, lease_seconds: float) -> Outcome:
        hosts = self.driver.hosts()
        with shielded(), self._locked(action, lease_seconds) as (lease, snapshot):
            journal = snapshot.journal
            running, unreachable = self.driver.read()
            if journal is None or (journal.finished and not journal.differences(running, unreachable)):
                self.say(f"   nothing to {action}: the last journal finished and every host matches it")
                return Outcome("", "", "nothing to do", 0.0)
            record = next((item for item in snapshot.audit if item.id == journal.audit_id), None) or AuditRecord(
                self.env, journal.action, journal.holder, journal.from_version, journal.to_version, id=journal.audit_id
            )
            run = _Run(lease, record, snapshot.history, journal)
            if action == "abort" or journal.phase == ROLLING_BACK or not journal.to_image:
                journal.aim(ROLLING_BACK, journal.from_image, hosts)
                goal_version, success = journal.from_version, "rolled-back"
                bad = run.history.find(journal.to_version)
                if bad is not None and journal.action == "release":
                    why = "aborted" if action == "abort" else "rolled back by resume"
                    bad.known_good, bad.bad_reason = False, f"{why} after its controller stopped"
            else:
                goal_version = journal.to_version
                success = "released" if journal.action == "release" else "rolled-back"
            record.details = {**record.details, action: {"by": current_actor(), "at": time.time()}}
            self.say(f"   {action}: every app host to {goal_version} ({journal.goal_image})")
            # An unfinished canary runs on every host beside the active slot: none is on its goal
            # until the switch has stopped the other slot and nginx has dropped the weights.
            canary_left = bool(journal.options.get("canary")) and not journal.finished
            on_goal = [] if canary_left else [host for host in hosts if running.get(host) == journal.goal_image]
            journal.mark(on_goal, ON_GOAL)
            moving = [host for host in hosts if host in running and host not in on_goal]
            return self._finish(run, moving, unreachable, success=success, version=goal_version)

    def _finish(self, run: _Run, hosts: list[str], unreachable: list[str], *, success: str, version: str) -> Outcome:
        """Switch `hosts` to the journal's goal, best effort; record the outcome."""
        journal, record = run.journal, run.record
        assert journal is not None
        switched = SwitchResult([], [], "")
        if hosts:
            with run.timed("switch"):
                switched = self.driver.switch(journal.goal_image, hosts, elapsed=run.elapsed)
            if switched.traffic_at:  # a warm switch: the time the clients care about
                run.durations["to_traffic"] = switched.traffic_at - run.began
        self._note_progress(journal, switched)
        journal.mark(unreachable, UNREACHABLE)
        missed = sorted(set(switched.missed) | set(unreachable))
        if missed:
            record.finish("incomplete", f"not reached: {', '.join(missed)}; "
                                        f"`./deploy.sh resume {self.env}` finishes them")  # fmt: skip
        else:
            journal.phase = DONE
            run.history.make_current(version)
            release = run.history.find(version)
            if release is not None and success == "released":
                release.known_good, release.bad_reason = True, ""
            record.failed_requests = _int_or_none(self.driver.gate_report().get("failed_requests"))
            record.finish(success, switched.problems)
        run.save()
        return Outcome(version, journal.from_version, record.result, run.elapsed, run.durations,
                       record.failed_requests, missed)  # fmt: skip

    # --- reading -----------------------------------------------------------------------------------

    def snapshot(self, *, last_audit: int = 0) -> Snapshot:
        return self.store.snapshot(last_audit=last_audit)

    def history(self) -> History:
        return self.snapshot().history

    # --- lock commands -----------------------------------------------------------------------------

    def hold(self, reason: str, seconds: float) -> None:
        """`./deploy.sh lock`: hold releases off for `seconds` (the lease is not renewed)."""
        lease, replaced = self.store.acquire(reason, ttl=seconds)
        self._audit_takeover(lease, replaced)
        lease.commit(audit=AuditRecord(self.env, "lock-held", current_actor(), result="done", reason=reason,
                                       finished_at=time.time()).to_dict())  # fmt: skip

    def request_pause(self) -> str:
        """`./deploy.sh pause`: the running canary holds at its step and exits (`promote` or `abort` go on)."""
        held = self.store.request_pause()
        if held is None:
            return f"nothing runs on {self.env}: there is no canary to pause"
        return f"{self.env}: asked {held.holder} ({held.purpose}) to pause; a canary holds within seconds"

    def break_lock(self) -> str:
        record = AuditRecord(self.env, "lock-broken", current_actor(), result="done", finished_at=time.time())
        held = self.store.snapshot().lock
        if held is None:
            return f"{self.env} was not locked"
        record.reason = f"broke the lock of {held.holder} ({held.purpose})"
        self.store.break_lock(record)
        return f"{self.env}: broke the lock of {held.describe(time.time())}"


def _warm(canary: list[Request], options: ReleaseOptions) -> list[Request]:
    """The canary's requests after its warm-up, timed from its first request by nginx's own clock."""
    if not canary:
        return []
    warm_from = min(request.at for request in canary) + options.warmup_seconds
    return [request for request in canary if request.at >= warm_from]


def _reason(failure: BaseException) -> str:
    if isinstance(failure, KeyboardInterrupt):
        return "interrupted by SIGINT (Ctrl-C)"
    if isinstance(failure, ReleaseInterruptedError):
        return str(failure)
    if isinstance(failure, OpsError):
        where = f" on {failure.host}" if failure.host else ""
        return f"{failure.message}{where}" + (f": {failure.detail}" if failure.detail else "")
    return f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__


def _int_or_none(value: object) -> int | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return None if number < 0 else round(number)
