"""Finding the Prometheus tools the dashboard tests run (Debian's prometheus and alertmanager)."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = REPO_ROOT / "dashboards" / "rules"
PROMTOOL_TESTS_DIR = Path(__file__).parent / "promtool"
RUNBOOKS_DIR = REPO_ROOT / "ops" / "runbooks"


def debian_tool(name: str, package: str) -> str:
    """The tool on PATH or where Debian installs it; fails with what to install otherwise."""
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if found is None:
        pytest.fail(f"{name} not found: install the Debian package {package} (make system-packages does)")
    return found


def run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd, timeout=240)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(command: list[str], ready_url: str, log_path: Path) -> Iterator[None]:
    """Runs a server on loopback until the block ends; fails with its log if it never gets ready."""
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"{command[0]} exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(ready_url, timeout=2):  # noqa: S310 (loopback URL we built)
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"{command[0]} not ready within 60 s:\n{log_path.read_text()}")
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def http_json(url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def static_annotations(rules_dir: Path = RULES_DIR) -> dict[str, dict[str, str]]:
    """alertname -> its static annotations (summary, runbook_url) from the rule files."""
    static: dict[str, dict[str, str]] = {}
    for rule_file in sorted(rules_dir.glob("*.rules.yml")):
        for group in yaml.safe_load(rule_file.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    annotations = rule["annotations"]
                    static[rule["alert"]] = {k: annotations[k] for k in ("summary", "runbook_url")}
    return static


def complete_unit_test(
    test_file: Path,
    out_dir: Path,
    rules_dir: Path = RULES_DIR,
    document: dict[str, Any] | None = None,
    static: dict[str, dict[str, str]] | None = None,
) -> Path:
    """The unit test file as promtool needs it: rule paths absolute, static annotations filled in.

    The hand-written files state the labels and the templated description of every expected alert;
    the static summary and runbook link would only repeat the rule file, so they are added here.
    `document` replaces the file's content and `static` the annotations read from rules_dir (the
    mutation runner passes a reduced copy and the annotations it read once).
    """
    if document is None:
        document = yaml.safe_load(test_file.read_text())
    document["rule_files"] = [str((rules_dir / Path(name).name).resolve()) for name in document["rule_files"]]
    if static is None:
        static = static_annotations(rules_dir)
    for group in document["tests"]:
        for case in group.get("alert_rule_test", []):
            for expected in case.get("exp_alerts") or []:
                annotations = expected.setdefault("exp_annotations", {})
                assert "description" in annotations, f"{test_file.name}: {case['alertname']} needs a description"
                annotations.update(static[case["alertname"]])
    completed = out_dir / test_file.name
    completed.write_text(yaml.safe_dump(document, sort_keys=False))
    return completed
