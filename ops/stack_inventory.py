"""Turn an aws stack's outputs into the Ansible inventory and group vars that deploy.sh and site.yml use.

    python -m ops.stack_inventory --stack aws-staging [--outputs-file outputs.json]

writes .slipway/<stack>/inventory/hosts.yml and .slipway/<stack>/inventory/group_vars/all.yml, where
ops.playbook (deploy.sh, site.yml) looks for an environment's inventory. Groups are those of the
local fleet (lb, app, db, cache, mon); db and cache are managed services on aws (RDS, ElastiCache), so
their groups have no hosts and their endpoints are group vars.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra import outputs
from ops.fleet.state import EnvPaths
from ops.pulumi_cli import REPOSITORY, ToolError, stack_outputs

GROUPS = ("lb", "app", "db", "cache", "mon")
SSM_CONNECTION = "community.aws.aws_ssm"


@dataclass(frozen=True)
class Inventory:
    hosts: dict[str, Any]  # the inventory file's content
    group_vars: dict[str, Any]  # group_vars/all.yml


def _need(stack_outputs: dict[str, Any], name: str) -> Any:
    if name not in stack_outputs or stack_outputs[name] in (None, ""):
        raise ToolError(
            f"the stack has no output {name!r}",
            "run `pulumi up` for the stack with this version of infra/, then generate the inventory again",
        )
    return stack_outputs[name]


def _host(entry: Any, *, via_ssh: bool, public: bool = False) -> dict[str, Any]:
    if not isinstance(entry, dict) or not {"name", "instanceId", "privateIp"} <= set(entry):
        raise ToolError(f"a host output is malformed: {entry!r}", "run `pulumi up` again to refresh the outputs")
    address = entry["publicIp"] if public and via_ssh else entry["privateIp"]
    host: dict[str, Any] = {
        "ansible_host": address if via_ssh else entry["instanceId"],
        "slipway_private_ip": entry["privateIp"],
        "slipway_instance_id": entry["instanceId"],
    }
    return host


def inventory_from_outputs(environment: str, stack_outputs: dict[str, Any]) -> Inventory:
    """The inventory and group vars of an aws stack, from its outputs."""
    platform = _need(stack_outputs, outputs.PLATFORM)
    if platform != "aws":
        raise ToolError(
            f"the stack runs on {platform}, not aws: it has no hosts for Ansible",
            "release kubernetes stacks with `./deploy.sh STACK --version TAG`",
        )
    via_ssh = bool(_need(stack_outputs, outputs.SSH_ACCESS))
    ssh_user = _need(stack_outputs, outputs.SSH_USER)
    lb_entry = _need(stack_outputs, outputs.LB_HOST)
    app_entries = _need(stack_outputs, outputs.APP_HOSTS)
    if not isinstance(app_entries, list) or not app_entries:
        raise ToolError("the stack's appHosts output is empty", "set slipway:appCount to 1 or more and run `pulumi up`")
    groups: dict[str, dict[str, Any]] = {
        "lb": {"lb": _host(lb_entry, via_ssh=via_ssh, public=True)},
        "app": {entry["name"]: _host(entry, via_ssh=via_ssh) for entry in app_entries},
        "db": {},
        "cache": {},
        "mon": {"mon": _host(_need(stack_outputs, outputs.MON_HOST), via_ssh=via_ssh)},
    }
    region = _need(stack_outputs, outputs.AWS_REGION)
    connection: dict[str, Any]
    if via_ssh:
        jump = f"{ssh_user}@{lb_entry['publicIp']}"
        connection = {"ansible_user": ssh_user}
        for group in ("app", "mon"):
            for host in groups[group].values():
                # Only the lb host has a public address; the others are reached through it.
                host["ansible_ssh_common_args"] = f"-o ProxyJump={jump}"
    else:
        connection = {
            "ansible_connection": SSM_CONNECTION,
            "ansible_aws_ssm_region": region,
            "ansible_aws_ssm_bucket_name": _need(stack_outputs, outputs.OPS_BUCKET),
        }
    hosts = {
        "all": {
            "vars": connection,
            "children": {group: ({"hosts": members} if members else {}) for group, members in groups.items()},
        }
    }
    group_vars = {
        "slipway_env": environment,
        "slipway_platform": "aws",
        "slipway_environment": _need(stack_outputs, outputs.ENVIRONMENT),
        "slipway_in_container": False,
        "slipway_domain": _need(stack_outputs, outputs.DOMAIN),
        "slipway_aws_region": region,
        "slipway_lb_public_ip": _need(stack_outputs, outputs.LB_PUBLIC_IP),
        # Managed PostgreSQL: TLS required (rds.force_ssl); the password lives in Secrets Manager.
        "slipway_db_managed": True,
        "slipway_db_host": _need(stack_outputs, outputs.DB_ENDPOINT),
        "slipway_db_port": int(_need(stack_outputs, outputs.DB_PORT)),
        "slipway_db_name": _need(stack_outputs, outputs.DB_NAME),
        "slipway_db_user": _need(stack_outputs, outputs.DB_USERNAME),
        "slipway_db_password_secret_arn": _need(stack_outputs, outputs.DB_PASSWORD_SECRET_ARN),
        "slipway_db_ssl": "require",
        # Managed Redis: TLS only (rediss://), AUTH token in Secrets Manager.
        "slipway_cache_managed": True,
        "slipway_cache_host": _need(stack_outputs, outputs.CACHE_ENDPOINT),
        "slipway_cache_port": int(_need(stack_outputs, outputs.CACHE_PORT)),
        "slipway_cache_tls": True,
        "slipway_cache_auth_secret_arn": _need(stack_outputs, outputs.CACHE_AUTH_SECRET_ARN),
        "slipway_storage_backend": "s3",
        "slipway_s3_bucket": _need(stack_outputs, outputs.VIDEO_BUCKET),
        "slipway_alarm_topic_arn": _need(stack_outputs, outputs.ALARM_TOPIC_ARN),
    }
    return Inventory(hosts=hosts, group_vars=group_vars)


HEADER = "# Generated by `python -m ops.stack_inventory` from the stack outputs. Do not edit: run it again.\n"


def write(inventory: Inventory, directory: Path) -> Path:
    """Write inventory/hosts.yml and inventory/group_vars/all.yml into the environment's state directory."""
    paths = EnvPaths(directory.name, directory)  # the layout ops.playbook reads
    inventory_dir = paths.inventory_dir
    (inventory_dir / "group_vars").mkdir(parents=True, exist_ok=True)
    inventory_file = paths.inventory_file
    inventory_file.write_text(HEADER + yaml.safe_dump(inventory.hosts, sort_keys=False), encoding="utf-8")
    (inventory_dir / "group_vars" / "all.yml").write_text(
        HEADER + yaml.safe_dump(inventory.group_vars, sort_keys=False), encoding="utf-8"
    )
    return inventory_file


def _read_outputs_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ToolError(f"{path} does not exist", "pass the file `pulumi stack output --json` wrote") from None
    except json.JSONDecodeError as error:
        raise ToolError(f"{path} is not JSON ({error})", "pass the file `pulumi stack output --json` wrote") from None
    if not isinstance(data, dict):
        raise ToolError(f"{path} does not hold a JSON object", "pass the file `pulumi stack output --json` wrote")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.stack_inventory", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the aws stack, e.g. aws-staging")
    parser.add_argument("--env", help="environment name for .slipway/<env>/ (default: the stack name)")
    parser.add_argument("--outputs-file", type=Path, help="outputs as JSON instead of asking the Pulumi CLI")
    parser.add_argument("--state-dir", type=Path, default=REPOSITORY / ".slipway", help="default: .slipway/")
    args = parser.parse_args(argv)
    environment = args.env or args.stack
    try:
        found = _read_outputs_file(args.outputs_file) if args.outputs_file else stack_outputs(args.stack)
        path = write(inventory_from_outputs(environment, found), args.state_dir / environment)
    except ToolError as error:
        print(error.render(), file=sys.stderr)
        return 1
    print(f"wrote {path} and {path.parent / 'group_vars' / 'all.yml'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
