"""The release driver for kubernetes stacks: `pulumi up` with the release's tag, then kubectl
waits until every Deployment of the app (its web process and its workers) has rolled out.

The tag reaches the program in SLIPWAY_RELEASE_TAG (infra/config.py), so no committed file
changes; the release history, kept in the cluster with the lock and the journal, says which tag
is current. The Deployments move together: the release's one "host" is the stack's workload,
named `deployments` (the stack output of that name lists them, the web process's first). Their
readiness probes and `kubectl rollout status` are the gate (maxUnavailable 0), so a failed
rollout leaves the old pods serving until the engine applies the previous tag again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from infra import outputs
from infra.config import RELEASE_TAG_VARIABLE
from ops.errors import OpsError
from ops.pulumi_cli import Runner, require_pulumi, require_tool, run, stack_outputs
from ops.release.driver import BatchSettings, SwitchResult
from ops.release.image import ReleaseImage, check_version
from ops.release.store import ReleaseStore
from ops.release.traffic import TrafficLog
from ops.release.transport import KubectlAgent

WORKLOAD = "deployments"
ROLLOUT_TIMEOUT_SECONDS = 600
Say = Callable[[str], None]


def up_command(stack: str, tag: str) -> list[str]:
    return ["env", f"{RELEASE_TAG_VARIABLE}={tag}", "pulumi", "up", "--stack", stack, "--yes", "--non-interactive"]


def rollout_command(namespace: str, deployment: str, timeout: int = ROLLOUT_TIMEOUT_SECONDS) -> list[str]:
    return ["kubectl", "rollout", "status", f"deployment/{deployment}", "--namespace", namespace,
            f"--timeout={timeout}s"]  # fmt: skip


def image_command(namespace: str, deployment: str) -> list[str]:
    return ["kubectl", "get", f"deployment/{deployment}", "--namespace", namespace,
            "--output=jsonpath={.spec.template.spec.containers[0].image}"]  # fmt: skip


class KubernetesDriver:
    def __init__(self, stack: str, *, runner: Runner = run, say: Say = print) -> None:
        self.stack = stack
        self.runner = runner
        self.say = say
        self._outputs: dict[str, Any] | None = None

    def outputs(self) -> dict[str, Any]:
        if self._outputs is None:
            found = stack_outputs(self.stack, self.runner)
            missing = [name for name in (outputs.NAMESPACE, outputs.DEPLOYMENTS, outputs.IMAGE, outputs.RELEASE_STATE)
                       if not found.get(name)]  # fmt: skip
            if missing:
                raise OpsError(
                    f"the outputs of stack {self.stack} lack {', '.join(missing)}",
                    step="read the stack outputs",
                    fix=f"run `pulumi up --stack {self.stack}` once with this version of the kit",
                )
            self._outputs = found
        return self._outputs

    def store(self) -> ReleaseStore:
        found = self.outputs()
        return ReleaseStore(KubectlAgent(str(found[outputs.NAMESPACE]), str(found[outputs.RELEASE_STATE])), self.stack)

    def _deployments(self) -> tuple[str, list[str]]:
        found = self.outputs()
        # Every Deployment of the app (the web process's first), as many workers as it has.
        names = [str(name) for name in found[outputs.DEPLOYMENTS]]
        return str(found[outputs.NAMESPACE]), names

    def hosts(self) -> list[str]:
        return [WORKLOAD]

    def read(self) -> tuple[dict[str, str], list[str]]:
        """The image of the API Deployment, or the workload as unreachable when kubectl cannot say."""
        namespace, names = self._deployments()
        done = self.runner(image_command(namespace, names[0]))
        image = done.stdout.strip()
        return ({WORKLOAD: image}, []) if done.returncode == 0 and image else ({}, [WORKLOAD])

    def check_can_release(self, *, canary: bool = False, config_only: bool = False) -> None:
        if canary:
            _no_canary()
        if config_only:
            _no_config_only()
        require_pulumi()
        require_tool("kubectl", "install kubectl and point its context at the stack's cluster")

    def prepare(self, version: str, from_image: str) -> ReleaseImage:
        if from_image:
            raise OpsError(
                "--from-image is for local fleets",
                step="find the image to release",
                fix=f"push the image to the stack's registry with the tag {version}, then release that tag",
            )
        repository = str(self.outputs()[outputs.IMAGE]).rsplit(":", 1)[0]
        return ReleaseImage(version, "", version, f"{repository}:{check_version(version)}")

    def forget_reports(self) -> None:
        return None

    def gate_report(self) -> dict[str, object]:
        return {}

    def baseline(self) -> dict[str, float]:
        return {}

    def _apply(self, image: str) -> str:
        """`pulumi up` with the image's tag, then wait for both Deployments; "" or what failed."""
        tag = image.rsplit(":", 1)[-1]
        done = self.runner(up_command(self.stack, tag))
        if done.returncode != 0:
            return f"pulumi up with {tag} failed:\n{(done.stderr or done.stdout).strip()[-2000:]}"
        namespace, names = self._deployments()
        for name in names:
            waited = self.runner(rollout_command(namespace, name))
            if waited.returncode != 0:
                return f"deployment/{name} did not roll out:\n{(waited.stderr or waited.stdout).strip()[-2000:]}"
        return ""

    # The driver interface: a kubernetes rollout is one batch, gated by its probes, not a bake.
    def roll_out(
        self, image: str, batch: list[str], settings: BatchSettings, *, first: bool,  # noqa: ARG002
        baseline: dict[str, float], elapsed: float,  # noqa: ARG002
    ) -> None:  # fmt: skip
        problem = self._apply(image)
        if problem:
            raise OpsError(problem.splitlines()[0], step="roll out", detail=problem, fix="see the detail above")

    def switch(self, image: str, hosts: list[str], *, elapsed: float) -> SwitchResult:  # noqa: ARG002
        problem = self._apply(image)
        return SwitchResult([], hosts, problem) if problem else SwitchResult(hosts, [], "")

    def local_image(self, image: str) -> str:  # noqa: ARG002
        _no_config_only()

    def traffic(self) -> TrafficLog:
        _no_canary()

    def start_canary(self, image: str, settings: BatchSettings, *, weight: int) -> None:  # noqa: ARG002
        _no_canary()

    def weigh_canary(self, image: str, weight: int) -> None:  # noqa: ARG002
        _no_canary()

    def promote(self, image: str, hosts: list[str], settings: BatchSettings, *, elapsed: float) -> None:  # noqa: ARG002
        _no_canary()


def _no_canary() -> NoReturn:
    raise OpsError(
        "canary releases are for environments of hosts behind nginx",
        step="read the options",
        fix="release a kubernetes stack without --canary: its Deployments roll out pod by pod, gated by their probes",
    )


def _no_config_only() -> NoReturn:
    raise OpsError(
        "config-only releases are for environments of hosts",
        step="read the options",
        fix="change the stack's config and run `pulumi up`: a kubernetes Deployment rolls out a new config itself",
    )
