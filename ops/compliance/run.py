"""Run the compliance suite (tests/compliance/) through an Ansible inventory and write the JUnit
XML and the Markdown report."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ops.compliance import report
from ops.compliance.checklist import checklist
from ops.compliance.results import CheckResult, ControlResult, Outcome, ResultsError, by_control, read_junit
from ops.errors import OpsError

REPO_ROOT = Path(__file__).resolve().parents[2]
SUITE = REPO_ROOT / "tests" / "compliance"
PLAYBOOK_CONFIG = REPO_ROOT / "playbooks" / "ansible.cfg"


@dataclass(frozen=True)
class ComplianceRun:
    junit: Path
    report: Path
    grouped: dict[str, dict[str, ControlResult]]
    loose_failures: list[CheckResult]

    def outcome(self, host: str, control: str) -> Outcome | None:
        result = self.grouped.get(host, {}).get(control)
        return None if result is None else result.outcome

    @property
    def failures(self) -> list[ControlResult]:
        return [r for controls in self.grouped.values() for r in controls.values() if r.outcome is Outcome.FAIL]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.loose_failures


def _pytest_command(
    inventory: Path, junit: Path, *, platform: str | None, hosts: list[str], controls: list[str]
) -> list[str]:
    command = [
        sys.executable, "-m", "pytest", str(SUITE),
        "--compliance-inventory", str(inventory),
        f"--junitxml={junit}",
        "-o", "junit_family=xunit1",
        "-p", "no:cacheprovider",
        "-q", "--no-header", "-rN", "--tb=line",
    ]  # fmt: skip
    if platform:
        command += ["--compliance-platform", platform]
    if hosts:
        command += ["--compliance-hosts", ",".join(hosts)]
    if controls:
        command += ["-k", " or ".join(controls)]
    return command


def _env(ansible_config: Path | None = None) -> dict[str, str]:
    """testinfra's ansible backend calls ansible-inventory: use the one next to this Python."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["ANSIBLE_CONFIG"] = str(ansible_config or PLAYBOOK_CONFIG)
    return env


def _ansible_config(directory: Path, control_dir: Path) -> Path:
    """The playbooks' ansible.cfg (become, interpreter) plus an explicit ControlPath.

    testinfra's SSH backend multiplexes only when the config names a ControlPath; without one,
    every check would open a new SSH session.
    """
    config = configparser.ConfigParser(interpolation=None)
    config.read(PLAYBOOK_CONFIG, encoding="utf-8")
    if not config.has_section("ssh_connection"):
        config.add_section("ssh_connection")
    args = config.get("ssh_connection", "ssh_args", fallback="")
    # %% because testinfra reads ssh_args with interpolation.
    config.set("ssh_connection", "ssh_args", f"{args} -o ControlPath={control_dir}/%%C".strip())
    path = directory / "ansible.cfg"
    with path.open("w", encoding="utf-8") as stream:
        config.write(stream)
    return path


def inventory_hosts(inventory: Path) -> list[str]:
    """Every host of the inventory, from ansible-inventory (the same view the suite gets)."""
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory), "--list"],
        env=_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        raise OpsError(
            f"ansible-inventory cannot read {inventory}",
            fix="check the inventory file (YAML or INI) and its group_vars",
            detail=completed.stderr.strip()[-800:],
        )
    return sorted(json.loads(completed.stdout).get("_meta", {}).get("hostvars", {}))


def _merge_junit(parts: list[Path], junit: Path) -> None:
    merged = ET.Element("testsuites")
    for part in parts:
        if part.is_file():
            root = ET.parse(part).getroot()  # noqa: S314 - our own pytest output
            merged.extend(root.iter("testsuite"))
    ET.ElementTree(merged).write(junit, encoding="utf-8", xml_declaration=True)


def _run_pytest(command: list[str], log: Path, ansible_config: Path) -> int:
    with log.open("w", encoding="utf-8") as stream:
        completed = subprocess.run(
            command, cwd=REPO_ROOT, env=_env(ansible_config), stdout=stream, stderr=subprocess.STDOUT, check=False
        )
    return completed.returncode


def run_compliance(
    inventory: Path,
    out_dir: Path,
    *,
    title: str,
    platform: str | None = None,
    hosts: tuple[str, ...] = (),
    controls: tuple[str, ...] = (),
    echo: bool = True,
) -> ComplianceRun:
    """Run the suite against every host of the inventory (or the named hosts and controls).

    One pytest per host, all at once: each host's checks share one multiplexed SSH connection,
    and the hosts answer in parallel.
    """
    if not inventory.is_file():
        raise OpsError(
            f"no inventory at {inventory}",
            fix="bring the fleet up (python -m ops.fleet up --env NAME) or pass --inventory PATH",
        )
    known = inventory_hosts(inventory)
    unknown = sorted(set(hosts) - set(known))
    if unknown:
        raise OpsError(f"no host {', '.join(unknown)} in {inventory}", fix=f"choose among: {', '.join(known)}")
    selected = list(hosts) or known
    out_dir.mkdir(parents=True, exist_ok=True)
    parts_dir = out_dir / "hosts"
    parts_dir.mkdir(exist_ok=True)
    jobs = {}
    for host in selected:
        part = parts_dir / f"{host}.xml"
        part.unlink(missing_ok=True)
        command = _pytest_command(inventory, part, platform=platform, hosts=[host], controls=list(controls))
        jobs[host] = (command, parts_dir / f"{host}.log")
    # A short private directory: SSH control sockets must fit in a 108-byte socket path.
    with tempfile.TemporaryDirectory(prefix="slipway-cp-") as control_dir:
        config = _ansible_config(out_dir, Path(control_dir))
        with ThreadPoolExecutor(max_workers=len(jobs) or 1) as pool:
            codes = dict(
                zip(jobs, pool.map(lambda job: _run_pytest(job[0], job[1], config), jobs.values()), strict=True)
            )
    # pytest: 0 all passed, 1 some failed, 5 nothing collected; anything else is a broken run.
    broken = {host: code for host, code in codes.items() if code not in (0, 1, 5)}
    if broken:
        host, code = next(iter(broken.items()))
        log = jobs[host][1]
        raise OpsError(
            f"the compliance suite did not run on {', '.join(broken)} (pytest exit {code})",
            host=host,
            fix=f"read {log}: the inventory must reach every host over SSH with sudo",
            detail="\n".join(log.read_text(encoding="utf-8").splitlines()[-15:]),
        )
    if echo:
        for host in jobs:
            tail = jobs[host][1].read_text(encoding="utf-8").splitlines()[-1:]
            print(f"{host}: {' '.join(tail)}", flush=True)
    junit = out_dir / "junit.xml"
    _merge_junit([parts_dir / f"{host}.xml" for host in jobs], junit)
    try:
        results = read_junit(junit)
    except ResultsError as error:
        raise OpsError(str(error), fix=f"read the logs in {parts_dir}") from error
    grouped = by_control([r for r in results if r.host != "?"])
    loose = [r for r in results if r.host == "?"]
    report_path = out_dir / "report.md"
    report_path.write_text(
        report.render(title=title, grouped=grouped, checklist=checklist(), loose_failures=loose),
        encoding="utf-8",
    )
    return ComplianceRun(junit=junit, report=report_path, grouped=grouped, loose_failures=loose)
