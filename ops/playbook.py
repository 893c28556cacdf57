"""Run an Ansible playbook against an environment's inventory, with progress and a clear failure.

The full output goes to `.slipway/<env>/logs/`; the terminal gets the plays, failures as they
happen, and a per-host recap that callers (deploy.sh, the idempotence test) read.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ops.errors import OpsError
from ops.fleet.state import REPO_ROOT, EnvPaths

PLAYBOOKS = REPO_ROOT / "playbooks"
_RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)"
)
_FAILURE = re.compile(r"^(?:fatal|failed): \[(?P<host>[^\]]+)\].*?: (?P<kind>FAILED|UNREACHABLE)! => (?P<body>.*)$")
_TASK = re.compile(r"^TASK \[(?P<name>.*)\] \**$")
_PLAY = re.compile(r"^PLAY \[(?P<name>.*)\] \**$")


@dataclass(frozen=True)
class HostRecap:
    ok: int
    changed: int
    unreachable: int
    failed: int


@dataclass(frozen=True)
class Failure:
    host: str
    task: str
    message: str


@dataclass
class PlaybookRun:
    log: Path
    recap: dict[str, HostRecap]
    failures: list[Failure]
    returncode: int
    seconds: float

    @property
    def changed(self) -> dict[str, int]:
        return {host: recap.changed for host, recap in self.recap.items()}


def _message(body: str) -> str:
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return body[:500]
    parts = [str(data.get("msg", ""))]
    for key in ("stderr", "module_stderr"):
        if data.get(key):
            parts.append(str(data[key]).strip()[-800:])
    return "\n".join(part for part in parts if part)


def parse_line(line: str, task: str, run: PlaybookRun) -> str:
    """Fold one output line into `run`; return the current task name."""
    if match := _TASK.match(line):
        return match["name"]
    if match := _FAILURE.match(line):
        run.failures.append(Failure(match["host"], task, _message(match["body"])))
    elif line.strip() == "...ignoring" and run.failures:
        run.failures.pop()  # the task has ignore_errors: not a failure of the run
    elif match := _RECAP.match(line):
        counts = {key: int(match[key]) for key in ("ok", "changed", "unreachable", "failed")}
        run.recap[match["host"]] = HostRecap(**counts)
    return task


def run_playbook(
    env: str,
    playbook: str,
    *,
    extra_vars: dict[str, object] | None = None,
    progress: Callable[[str], None] = print,
    check: bool = True,
) -> PlaybookRun:
    """Run `playbooks/<playbook>` on env's inventory; raise an OpsError naming host and task on failure."""
    paths = EnvPaths.for_env(env)
    if not (PLAYBOOKS / playbook).exists():
        raise OpsError(
            f"playbooks/{playbook} does not exist",
            step=f"run {playbook}",
            fix="merge the playbooks (branch roles) or check out a complete Slipway tree",
        )
    logs = paths.root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{Path(playbook).stem}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(paths.inventory_file), playbook]
    if extra_vars:
        command += ["--extra-vars", json.dumps(extra_vars)]
    environment = os.environ | {
        "ANSIBLE_CONFIG": str(PLAYBOOKS / "ansible.cfg"),
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_NOCOLOR": "1",
        # Per-task timings in the log, and the slowest tasks at its end.
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
        "ANSIBLE_FORCE_COLOR": "0",
        "PYTHONUNBUFFERED": "1",
    }
    run = PlaybookRun(log=log, recap={}, failures=[], returncode=0, seconds=0.0)
    started = time.monotonic()
    task = ""
    with (
        log.open("w", buffering=1) as out,  # line-buffered: `tail -f` shows the run live
        # A process group of its own: Ctrl-C and a terminal's hang-up reach this process only, which
        # decides (a release rolls back and stops the run itself), instead of killing the run mid-task.
        subprocess.Popen(
            command,
            cwd=PLAYBOOKS,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            process_group=0,
        ) as process,
    ):
        assert process.stdout is not None
        try:
            for line in process.stdout:
                out.write(line)
                task = parse_line(line.rstrip("\n"), task, run)
                if match := _PLAY.match(line.rstrip("\n")):
                    progress(f"   play: {match['name']}")
                elif _FAILURE.match(line):
                    progress(f"   failed: {run.failures[-1].host}: {task}")
        except BaseException:
            _stop(process)  # a signal or an error here: the caller acts next, not a stray run
            raise
        run.returncode = process.wait()
    run.seconds = time.monotonic() - started
    if check and run.returncode != 0:
        raise failure_error(run, playbook)
    return run


def _stop(process: subprocess.Popen[str]) -> None:
    """End a playbook run early: SIGTERM (Ansible stops its workers), SIGKILL after 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def failure_error(run: PlaybookRun, playbook: str) -> OpsError:
    """An OpsError for a failed run: the first failing host and task, with the module's message."""
    first = run.failures[0] if run.failures else Failure("", "", "")
    others = sorted({failure.host for failure in run.failures[1:]} - {first.host})
    detail = first.message + (f"\nalso failed: {', '.join(others)}" if others else "")
    return OpsError(
        f"{playbook} failed" + (f" at task '{first.task}'" if first.task else f" (exit {run.returncode})"),
        host=first.host,
        step=playbook,
        detail=detail,
        fix=f"fix the cause above, then run the command again (the playbooks are idempotent); full log: {run.log}",
    )
