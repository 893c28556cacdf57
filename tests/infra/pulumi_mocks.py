"""Run the Pulumi program of one example stack under Pulumi's mocks and record what it declares.

No CLI and no cloud: `pulumi.runtime.set_mocks` stands in for the engine. The mocks echo each
resource's inputs back as its state and add the few computed outputs the program reads (ids, ARNs,
addresses), so every recorded input is exactly what the program would send to the provider.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import runpy
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime.settings
import yaml
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret

from infra.config import DEFAULTS, SECRET_KEYS, kubernetes_secret_keys
from ops.service.load import load

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "slipway"
ACCOUNT_ID = "123456789012"
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
# Secrets the example stacks leave out on purpose; the tests supply them as `pulumi config set
# --secret` would.
TEST_SECRETS = {
    "cacheAuthToken": "t3st-cache-auth-token-0123456789abcdef",
    "dbPassword": "t3st-db-password-0123456789",
    "redisPassword": "t3st-redis-password-0123456789",
    "secretKey": "t3st-secret-key-0123456789abcdef0123456789",
    "grafanaAdminPassword": "t3st-grafana-admin-0123456789",
    # The second app's (tests/infra/stacks.py) and the notes example's.
    "sessionKey": "t3st-session-key-0123456789abcdef0123456789",
    "notesToken": "t3st-notes-token-0123456789abcdef0123456789",
}
TEST_SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW5vdC1mb3ItdXNlLTAxMjM0NTY3ODk test"


def is_secret(value: Any) -> bool:
    return bool(is_rpc_secret(value))


def reveal(value: Any) -> Any:
    """The value with every secret wrapper replaced by what it wraps, and whole numbers as int
    (the engine's protobuf carries every number as a double)."""
    if is_secret(value):
        return reveal(unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def secret_paths(value: Any, path: str = "") -> list[str]:
    """Paths (a.b.0.c) of the secret values inside a recorded input."""
    if is_secret(value):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in secret_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in secret_paths(v, f"{path}.{i}")]
    return []


@dataclass
class Resource:
    type: str
    name: str
    inputs: dict[str, Any]
    custom: bool
    urn: str = ""

    @property
    def parent_types(self) -> list[str]:
        """Types of the resource's ancestors, outermost first, as the URN records them."""
        qualified = self.urn.split("::")[2] if self.urn.count("::") >= 3 else ""
        return qualified.split("$")[:-1]

    @property
    def plain(self) -> dict[str, Any]:
        result: dict[str, Any] = reveal(self.inputs)
        return result


@dataclass
class StackRun:
    stack: str
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name_part: str = "") -> Resource:
        found = [r for r in self.of_type(type_) if name_part in r.name]
        assert len(found) == 1, f"expected one {type_} named *{name_part}*, found {[r.name for r in found]}"
        return found[0]

    @property
    def custom(self) -> list[Resource]:
        return [r for r in self.resources if r.custom and not r.type.startswith("pulumi:providers:")]

    @property
    def kubernetes_objects(self) -> list[Resource]:
        return [r for r in self.custom if r.type.startswith("kubernetes:") and "helm.sh" not in r.type]


class Recorder(Mocks):
    """Mocks that record every resource and answer the invokes the program makes."""

    def __init__(self) -> None:
        self.resources: list[Resource] = []
        self._addresses = itertools.count(10)

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(Resource(args.typ, args.name, dict(args.inputs), bool(args.custom)))
        state = dict(args.inputs)
        resource_id = f"{args.name}-id"
        if args.typ.startswith("aws:"):
            service = args.typ.split(":")[1].split("/")[0]
            state.setdefault("arn", f"arn:aws:{service}:eu-west-1:{ACCOUNT_ID}:{args.name}")
            state.setdefault("name", args.name)
        extra: dict[str, dict[str, Any]] = {
            "aws:ec2/instance:Instance": {"privateIp": f"10.40.64.{next(self._addresses)}"},
            "aws:ec2/eip:Eip": {"publicIp": f"198.51.100.{next(self._addresses)}"},
            "aws:kms/key:Key": {"keyId": f"{args.name}-key-id"},
            "aws:ec2/keyPair:KeyPair": {"keyName": args.name},
            "aws:s3/bucket:Bucket": {"bucket": f"{args.name}-bucket"},
            "aws:rds/instance:Instance": {
                "address": f"{args.name}.abc.eu-west-1.rds.amazonaws.com",
                "port": 5432,
                "identifier": args.name,
                "masterUserSecrets": [
                    {"secretArn": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT_ID}:secret:rds-{args.name}"}
                ],
            },
            "aws:elasticache/replicationGroup:ReplicationGroup": {
                "primaryEndpointAddress": f"master.{args.name}.abc.euw1.cache.amazonaws.com"
            },
        }
        state.update(extra.get(args.typ, {}))
        if args.typ.startswith("kubernetes:") and isinstance(state.get("metadata"), dict):
            metadata = dict(state["metadata"])
            metadata.setdefault("name", f"{args.name}-abc123")
            state["metadata"] = metadata
        return resource_id, state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        answers: dict[str, dict[str, Any]] = {
            "aws:ec2/getAmi:getAmi": {"id": "ami-0debian12example", "name": "debian-12-amd64-20261101-1234"},
            "aws:index/getAvailabilityZones:getAvailabilityZones": {
                "id": "eu-west-1",
                "names": ZONES,
                "zoneIds": ["euw1-az1", "euw1-az2", "euw1-az3"],
            },
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "id": ACCOUNT_ID,
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/test",
                "userId": "AIDTEST",
            },
        }
        if args.token not in answers:
            raise AssertionError(f"the program made an invoke the mocks do not know: {args.token}")
        return answers[args.token], []


def stack_config(stack: str) -> dict[str, str]:
    """The stack file's config as the CLI hands it to the program: strings, objects as JSON."""
    data = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {key: _as_config_string(value) for key, value in data.items()}


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def config_with_secrets(stack: str, definition: Path | str | None = None) -> tuple[dict[str, str], list[str]]:
    """The stack's config plus the secrets (and SSH key) a user would set before `pulumi up`; with
    `definition`, for that app definition instead of the stack's."""
    config = stack_config(stack)
    if definition is not None:
        config[f"{PROJECT}:appDefinition"] = str(definition)
    platform = config[f"{PROJECT}:platform"]
    wanted = SECRET_KEYS[platform]
    if platform == "kubernetes":
        path = ROOT / config.get(f"{PROJECT}:appDefinition", str(DEFAULTS["appDefinition"]))
        wanted = kubernetes_secret_keys(
            load(path), monitoring_stack=config.get(f"{PROJECT}:monitoringStack") != "false"
        )
    secrets = {f"{PROJECT}:{key}": TEST_SECRETS[key] for key in wanted}
    if config.get(f"{PROJECT}:sshCidr"):
        config.setdefault(f"{PROJECT}:sshPublicKey", TEST_SSH_KEY)
    return config | secrets, list(secrets)


def run_program(
    stack: str, config: dict[str, str], secret_keys: list[str], recorder: Recorder | None = None
) -> StackRun:
    """Run infra/ under the mocks with this config; return what it declared and exported.

    Raises what the program raises (a ConfigError for bad config). The program runs in a thread of
    its own, so its event loop and Pulumi's context variables never touch the test's (pytest-asyncio
    keeps a session loop on the main thread).
    """
    recorder = recorder or Recorder()
    with ThreadPoolExecutor(max_workers=1) as runner:
        return runner.submit(_run_in_this_thread, stack, config, secret_keys, recorder).result()


def _run_in_this_thread(stack: str, config: dict[str, str], secret_keys: list[str], recorder: Recorder) -> StackRun:
    run = StackRun(stack)
    # A fresh loop and root stack per run: the runtime's futures belong to the loop they were made on.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The mock monitor runs in executor threads and gives each an event loop; hand them ours so they
    # can be closed afterwards instead of leaking (a ResourceWarning at some later test's gc).
    thread_loops: list[asyncio.AbstractEventLoop] = []

    def give_thread_a_loop() -> None:
        thread_loop = asyncio.new_event_loop()
        thread_loops.append(thread_loop)
        asyncio.set_event_loop(thread_loop)

    executor = ThreadPoolExecutor(max_workers=4, initializer=give_thread_a_loop)
    loop.set_default_executor(executor)
    monitor = MockMonitor(recorder)
    try:
        pulumi.runtime.settings.ROOT.set(None)
        pulumi.runtime.set_all_config(config, secret_keys)
        pulumi.runtime.set_mocks(recorder, project=PROJECT, stack=stack, preview=False, monitor=monitor)

        async def program() -> None:
            runpy.run_path(str(ROOT / "infra"), run_name="__main__")
            root = pulumi.runtime.settings.get_root_resource()
            exported: dict[str, Any] = getattr(root, "outputs", {})
            for key, value in exported.items():
                output = pulumi.Output.from_input(value)
                run.outputs[key] = await output.future()

        loop.run_until_complete(pulumi.runtime.stack.run_pulumi_func(program))
    finally:
        executor.shutdown(wait=True)
        for thread_loop in thread_loops:
            thread_loop.close()
        loop.close()
        asyncio.set_event_loop(None)
    urns = {urn.rsplit("::", 1)[-1]: urn for urn in monitor.resources}
    for resource in recorder.resources:
        resource.urn = urns.get(resource.name, "")
    run.resources = recorder.resources
    return run
