"""`./deploy.sh up ENV`: from nothing to the API serving through nginx over TLS on a local fleet.

Every step is idempotent, so running it again resumes after a failure and converges the hosts
(site.yml) to the roles and the current version. `./deploy.sh ENV` runs it by itself for a local
fleet named `local` that is not serving yet; `./deploy.sh destroy ENV` removes a fleet and its state.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

from ops import images
from ops.deploy.progress import Steps, say
from ops.docker_engine import ensure_engine
from ops.fleet import lifecycle, model, registry
from ops.fleet.state import EnvPaths, FleetState
from ops.playbook import PlaybookRun, run_playbook
from ops.smoke import smoke_env

DEFAULT_ENV = "local"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    up = commands.add_parser(
        "up",
        help="stand up (or converge) a local fleet: hosts, hardening, the current version, a smoke test",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    up.add_argument("env", metavar="ENV", nargs="?", default=DEFAULT_ENV, help=f"environment (default {DEFAULT_ENV})")
    up.add_argument("--skip-smoke", action="store_true", help="do not run the smoke test at the end")
    up.set_defaults(run=_up)
    remove = commands.add_parser("destroy", help="remove a local fleet, its volumes and its state")
    remove.add_argument("env", metavar="ENV", help="the local fleet to remove")
    remove.set_defaults(run=lambda args: destroy(args.env))


def _up(args: argparse.Namespace) -> int:
    deploy(args.env, smoke=not args.skip_smoke)
    return 0


def needs_provisioning(env: str) -> bool:
    """True for the default local fleet while it has never served: `./deploy.sh local` stands it
    up. Any other name is stood up only by `./deploy.sh up ENV`, so a typo never builds a fleet."""
    return env == DEFAULT_ENV and not EnvPaths.for_env(env).deployed_file.exists()


def destroy(env: str) -> int:
    model.check_env_name(env)
    lifecycle.down(env, purge_state=True, progress=lambda message: say(f"   {message}"))
    say(f"local fleet {env}: removed (containers, volumes, network, .slipway/{env}/)")
    return 0


@dataclass(frozen=True)
class Deployment:
    state: FleetState
    image: images.AppImage
    pull_name: str
    site: PlaybookRun


def site_extra_vars(pull_name: str, *, force_image: bool) -> dict[str, object]:
    """What site.yml needs from a deploy: the image to run, and whether it replaces the running one."""
    return {"slipway_app_image": pull_name, "app_image_force": force_image}


def deploy(env: str, *, smoke: bool = True) -> Deployment:
    """Run every step; an OpsError from any of them names host, step and fix."""
    model.check_env_name(env)
    steps = Steps(total=6 if smoke else 5)
    with steps.step("prerequisites: Docker engine, base image"):
        ensure_engine()
        say(f"   {images.BASE_IMAGE}: {images.ensure_base_image()}")
    with steps.step("images: fleet host, API"):
        images.ensure_host_image()
        app_image = images.build_app_image()
        say(f"   {app_image.tag}")
    with steps.step(f"fleet {env}: hosts, network, registry, secrets"):
        state = lifecycle.up(env, progress=lambda message: say(f"   {message}"))
    with steps.step("push the API image to the fleet's registry"):
        pull_name = registry.push_image(state, app_image.tag)
        say(f"   {pull_name}")
    paths = EnvPaths.for_env(env)
    previous = json.loads(paths.deployed_file.read_text()) if paths.deployed_file.exists() else {}
    with steps.step("site.yml: harden, provision, migrate and start the API (Ansible)"):
        extra = site_extra_vars(pull_name, force_image=previous.get("image") != pull_name)
        played = run_playbook(env, "site.yml", extra_vars=extra, progress=say)
        changed = sum(played.changed.values())
        say(f"   {len(played.recap)} hosts, {changed} changes, log {played.log}")
    paths.deployed_file.write_text(json.dumps({"image": pull_name, "version": app_image.version}) + "\n")
    if smoke:
        with steps.step("smoke test through nginx over TLS"):
            result = smoke_env(env, progress=say)
            say(f"   video {result.video_id} processed in {result.processing_seconds:.1f}s")
    _summary(state, app_image, steps)
    return Deployment(state, app_image, pull_name, played)


def _summary(state: FleetState, app_image: images.AppImage, steps: Steps) -> None:
    hosts = ", ".join(f"{name} {host.address}" for name, host in sorted(state.hosts.items()))
    paths = EnvPaths.for_env(state.env)
    say("")
    say(f"Slipway {state.env} is serving")
    say(f"  url      https://127.0.0.1:{state.https_port}  (CA: {paths.ca_cert})")
    say(f"  version  {app_image.version} ({app_image.commit})")
    say(f"  hosts    {hosts}")
    say(f"  ssh      python -m ops.fleet ssh --env {state.env} HOST")
    say(f"  time     {time.strftime('%M:%S', time.gmtime(steps.elapsed))} (min:s)")
