"""Releases on a kubernetes stack: set the image tag in the stack config, `pulumi up`, wait for the rollout.

    python -m ops.k8s_release deploy STACK TAG      # what `./deploy.sh STACK` runs for a kubernetes stack
    python -m ops.k8s_release rollback STACK [--to TAG]
    python -m ops.k8s_release status STACK

`pulumi up` runs the release's migration Job and rolls the Deployments (maxUnavailable 0). When the
update or the rollout fails, the previous tag is set back and applied, so no half-released version is
left running; the history of releases is kept in .slipway/<stack>/k8s-releases.json.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from infra import outputs
from ops.pulumi_cli import REPOSITORY, Runner, ToolError, require_pulumi, require_tool, run, stack_outputs

TAG_KEY = "slipway:appImageTag"
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
ROLLOUT_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class Release:
    tag: str
    previous: str
    result: str  # released | failed | rolled-back
    at: float
    by: str


def is_kubernetes_stack(environment: str, root: Path = REPOSITORY) -> bool:
    """Whether `./deploy.sh ENV` means a kubernetes stack (Pulumi.ENV.yaml with platform kubernetes)."""
    path = root / f"Pulumi.{environment}.yaml"
    return path.is_file() and StackFile(environment, root).platform() == "kubernetes"


def check_tag(tag: str) -> str:
    if tag == "latest" or not TAG_PATTERN.match(tag):
        raise ToolError(f"{tag!r} is not a release tag", "pass an immutable tag such as 1.4.2 (never latest)")
    return tag


class StackFile:
    """Pulumi.<stack>.yaml, edited line by line so that its comments and order survive."""

    def __init__(self, stack: str, root: Path = REPOSITORY) -> None:
        self.stack = stack
        self.path = root / f"Pulumi.{stack}.yaml"
        if not self.path.is_file():
            raise ToolError(f"{self.path.name} does not exist", f"create the stack first (`pulumi stack init {stack}`)")

    def _config(self) -> dict[str, object]:
        data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        config = data.get("config") if isinstance(data, dict) else None
        if not isinstance(config, dict):
            raise ToolError(f"{self.path.name} has no `config:` map", "restore it from git")
        return config

    def platform(self) -> str:
        return str(self._config().get("slipway:platform", ""))

    def tag(self) -> str:
        value = self._config().get(TAG_KEY)
        return "" if value is None else str(value)

    def set_tag(self, tag: str) -> str:
        """Set the image tag; return the one it replaces ("" when the stack used the default)."""
        previous = self.tag()
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        entry = re.compile(rf"^(\s+){re.escape(TAG_KEY)}:.*$")
        for index, line in enumerate(lines):
            match = entry.match(line)
            if match:
                lines[index] = f"{match.group(1)}{TAG_KEY}: {tag}\n"
                break
        else:
            at = next((i for i, line in enumerate(lines) if line.rstrip() == "config:"), None)
            if at is None:
                raise ToolError(f"{self.path.name} has no top-level `config:` line", "restore it from git")
            lines.insert(at + 1, f"  {TAG_KEY}: {tag}\n")
        self.path.write_text("".join(lines), encoding="utf-8")
        if self.tag() != tag:  # a YAML quirk (e.g. a tag read back as a number) must not go unseen
            self.path.write_text(
                self.path.read_text(encoding="utf-8").replace(f"{TAG_KEY}: {tag}\n", f'{TAG_KEY}: "{tag}"\n')
            )
        if self.tag() != tag:
            raise ToolError(f"could not set {TAG_KEY} in {self.path.name}", "set it with `pulumi config set`")
        return previous


class History:
    """The stack's releases, oldest first, in .slipway/<stack>/k8s-releases.json."""

    def __init__(self, stack: str, state_dir: Path) -> None:
        self.path = state_dir / stack / "k8s-releases.json"

    def load(self) -> list[Release]:
        if not self.path.exists():
            return []
        return [Release(**entry) for entry in json.loads(self.path.read_text(encoding="utf-8"))]

    def append(self, release: Release) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        entries = [asdict(r) for r in self.load()] + [asdict(release)]
        self.path.write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")

    def previous_good(self, current: str) -> str:
        """The newest successfully released tag other than the current one."""
        for release in reversed(self.load()):
            if release.result in ("released", "rolled-back") and release.tag != current:
                return release.tag
        raise ToolError("no earlier release of this stack is recorded", "name the tag: rollback STACK --to TAG")


def up_command(stack: str) -> list[str]:
    return ["pulumi", "up", "--stack", stack, "--yes", "--non-interactive", "--diff"]


def rollout_commands(
    namespace: str, deployments: Sequence[str], timeout: int = ROLLOUT_TIMEOUT_SECONDS
) -> list[list[str]]:
    return [
        ["kubectl", "rollout", "status", f"deployment/{name}", "--namespace", namespace, f"--timeout={timeout}s"]
        for name in deployments
    ]


class Releaser:
    """Runs one stack's releases through the Pulumi CLI and kubectl."""

    def __init__(
        self, stack: str, *, runner: Runner = run, root: Path = REPOSITORY, state_dir: Path | None = None
    ) -> None:
        self.stack = stack
        self.file = StackFile(stack, root)
        if self.file.platform() != "kubernetes":
            raise ToolError(
                f"stack {stack} is not a kubernetes stack", "aws and local stacks are released by Ansible (deploy.sh)"
            )
        self.history = History(stack, state_dir or root / ".slipway")
        self.runner = runner

    def _apply(self) -> str:
        """`pulumi up` then wait for both Deployments; return "" or what failed."""
        done = self.runner(up_command(self.stack))
        if done.returncode != 0:
            return f"pulumi up failed:\n{(done.stderr or done.stdout).strip()[-2000:]}"
        found = stack_outputs(self.stack, self.runner)
        names = [found.get(outputs.API_DEPLOYMENT), found.get(outputs.WORKER_DEPLOYMENT)]
        namespace = found.get(outputs.NAMESPACE)
        if not namespace or not all(names):
            return "the stack outputs lack the namespace or Deployment names"
        for command in rollout_commands(str(namespace), [str(n) for n in names]):
            waited = self.runner(command)
            if waited.returncode != 0:
                return f"{' '.join(command[:4])} failed:\n{(waited.stderr or waited.stdout).strip()[-2000:]}"
        return ""

    def release(self, tag: str) -> Release:
        """Release `tag`; on failure put the previous tag back, apply it, and raise."""
        check_tag(tag)
        require_pulumi()
        require_tool("kubectl", "install kubectl and point its context at the stack's cluster")
        previous = self.file.set_tag(tag)
        problem = self._apply()
        who = getpass.getuser()
        if not problem:
            record = Release(tag, previous, "released", time.time(), who)
            self.history.append(record)
            return record
        self.history.append(Release(tag, previous, "failed", time.time(), who))
        if not previous:
            raise ToolError(
                f"release {tag} failed and there is no previous tag to return to: {problem}", "fix and rerun"
            )
        self.file.set_tag(previous)
        back = self._apply()
        if back:
            raise ToolError(
                f"release {tag} failed ({problem}) and so did going back to {previous} ({back})",
                f"inspect the cluster (kubectl -n ... get pods); {TAG_KEY} is set to {previous}",
            )
        self.history.append(Release(previous, tag, "rolled-back", time.time(), who))
        raise ToolError(f"release {tag} failed and {previous} is serving again: {problem}", "fix the release and rerun")

    def rollback(self, to: str | None = None) -> Release:
        target = to or self.history.previous_good(self.file.tag())
        return self.release(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.k8s_release", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    deploy = commands.add_parser("deploy", help="release TAG to STACK")
    deploy.add_argument("stack")
    deploy.add_argument("tag")
    rollback = commands.add_parser("rollback", help="release the previous (or a named) tag")
    rollback.add_argument("stack")
    rollback.add_argument("--to", help="the tag to go back to (default: the previous good release)")
    status = commands.add_parser("status", help="the current tag and the release history")
    status.add_argument("stack")
    args = parser.parse_args(argv)
    try:
        releaser = Releaser(args.stack)
        if args.command == "status":
            print(f"{args.stack}: {TAG_KEY} = {releaser.file.tag() or '(default)'}")
            for entry in releaser.history.load():
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.at))
                print(f"  {when}Z  {entry.result:<11} {entry.previous or '-'} -> {entry.tag}  by {entry.by}")
            return 0
        done = releaser.release(args.tag) if args.command == "deploy" else releaser.rollback(args.to)
    except ToolError as error:
        print(error.render(), file=sys.stderr)
        return 1
    print(f"{args.stack}: released {done.tag} (was {done.previous or 'the default'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
