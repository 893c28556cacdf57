"""`./deploy.sh check [FILE]`: validate an app definition and say what Slipway read from it."""

from __future__ import annotations

import argparse
from pathlib import Path

from ops.deploy.progress import say
from ops.service.definition import Definition
from ops.service.load import definition_path, load, shown


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check",
        help="validate an app definition (default app/slipway.yml) and say what to fix",
        description=__doc__,
    )
    check.add_argument(
        "file",
        metavar="FILE",
        nargs="?",
        type=Path,
        help="the definition to check (default: $SLIPWAY_APP_DEFINITION or app/slipway.yml)",
    )
    check.set_defaults(run=lambda args: _check(args.file or definition_path()))


def summary(definition: Definition) -> list[str]:
    """What the kit will run, in a few lines a reader can compare with the file."""
    web = definition.web
    lines = [
        f"web: {' '.join(web.command)} on port {web.port}, live {web.health.live}, ready {web.health.ready}, "
        f"stop within {web.stop_seconds} s, {web.resources.memory} and {web.resources.cpus:g} CPU",
    ]
    for worker in definition.workers:
        health = f"health on port {worker.health.port}" if worker.health else "no health port"
        lines.append(f"worker {worker.name}: {' '.join(worker.command)}, {health}, stop within {worker.stop_seconds} s")
    lines.append(f"migrations: {' '.join(definition.migrate.command)}" if definition.migrate else "migrations: none")
    lines.append(f"data services: {', '.join(definition.data.names()) or 'none'}")
    secrets = definition.secret_names()
    lines.append(
        f"environment: {len(definition.environment)} variables"
        + (f", secrets generated per environment: {', '.join(secrets)}" if secrets else "")
    )
    lines.append(f"smoke checks: {', '.join(f'{c.path} -> {c.status}' for c in definition.smoke) or 'none'}")
    return lines


def _check(path: Path) -> int:
    definition = load(path)
    say(f"{shown(path)}: service {definition.service} is a valid app definition")
    for line in summary(definition):
        say(f"   {line}")
    return 0
