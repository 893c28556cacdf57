"""Bring an environment's fleet up, report on it, and take it down."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ops import images
from ops.docker_cli import docker, exists, inspect, names
from ops.docker_engine import ensure_engine
from ops.fleet import hosts, model, registry, tls
from ops.fleet.inventory import write_inventory
from ops.fleet.network import ensure_network
from ops.fleet.secrets import ensure_secrets, ensure_ssh_key
from ops.fleet.state import EnvPaths, FleetState, HostState
from ops.localservices import free_port

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def _address(subnet: str, octet: int) -> str:
    return str(ipaddress.ip_network(subnet).network_address + octet)


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As Docker binds it: connections in TIME_WAIT on the port do not make it busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _keep_or_new_port(port: int, container: str) -> int:
    """A recorded port stays while its container exists (Docker holds it) or while it is free."""
    if port and (exists("container", container) or _port_is_free(port)):
        return port
    return free_port()


def _plan_state(env: str, existing: FleetState | None) -> FleetState:
    network = model.network_name(env)
    subnet, gateway = ensure_network(env, network, existing.subnet if existing else "")
    state = existing or FleetState(env=env, network=network, subnet=subnet, gateway=gateway)
    state.subnet, state.gateway = subnet, gateway
    for spec in model.HOSTS:
        container = model.container_name(env, spec.name)
        recorded = state.hosts.get(spec.name)
        state.hosts[spec.name] = HostState(
            container=container,
            address=_address(subnet, spec.octet),
            ssh_port=_keep_or_new_port(recorded.ssh_port if recorded else 0, container),
        )
    lb = model.container_name(env, "lb")
    state.http_port = _keep_or_new_port(state.http_port, lb)
    state.https_port = _keep_or_new_port(state.https_port, lb)
    state.registry_address = _address(subnet, model.REGISTRY_OCTET)
    state.registry_port = _keep_or_new_port(state.registry_port, model.registry_name(env))
    return state


def _issue_certificates(paths: EnvPaths, state: FleetState) -> None:
    """The environment CA (site.yml signs each service's certificate with it) and the registry's."""
    tls.ensure_ca(paths.ca_dir, state.env)
    tls.ensure_server_cert(
        paths.certs_dir,
        paths.ca_dir,
        "registry",
        dns_names=["registry", model.registry_name(state.env), "localhost"],
        ip_addresses=[state.registry_address, "127.0.0.1"],
        env=state.env,
    )


def _ensure_volumes(env: str) -> None:
    wanted = [model.videos_volume(env), model.registry_volume(env)]
    wanted += [model.docker_volume(env, spec.name) for spec in model.HOSTS if spec.runs_docker]
    for volume in wanted:
        if not exists("volume", volume):
            docker("volume", "create", "--label", f"{model.LABEL}={env}", volume, step="create volumes")


def _write_known_hosts(paths: EnvPaths, state: FleetState, host_keys: dict[str, str]) -> None:
    lines = [f"[127.0.0.1]:{state.hosts[name].ssh_port} {key}" for name, key in sorted(host_keys.items())]
    paths.known_hosts.write_text("\n".join(lines) + "\n")


def _prepare_host(state: FleetState, spec: model.HostSpec, public_key: str) -> tuple[str, str]:
    host = state.hosts[spec.name]
    hosts.ensure_host_container(state.env, spec, host, (state.http_port, state.https_port))
    host_key = hosts.wait_for_sshd(spec.name, host)
    hosts.install_authorized_key(spec.name, host, public_key)
    return spec.name, host_key


# Every host runs its own systemd, and all of them share the machine's per-user inotify limit
# (128 instances by default): a few fleets exhaust it and units fail at boot. Raised (never
# lowered) on the machine, as kind and other systemd-in-container tools recommend.
INOTIFY_INSTANCES = Path("/proc/sys/fs/inotify/max_user_instances")
INOTIFY_INSTANCES_WANTED = 8192


def _raise_inotify_limit(progress: Progress) -> None:
    try:
        current = int(INOTIFY_INSTANCES.read_text())
        if current < INOTIFY_INSTANCES_WANTED:
            INOTIFY_INSTANCES.write_text(f"{INOTIFY_INSTANCES_WANTED}\n")
            progress(f"raised fs.inotify.max_user_instances {current} -> {INOTIFY_INSTANCES_WANTED}")
    except OSError as error:
        progress(f"warning: cannot raise fs.inotify.max_user_instances ({error}); hosts may fail units")


def up(env: str, progress: Progress = _quiet) -> FleetState:
    """Create or complete the environment's fleet; safe to run again at any time."""
    model.check_env_name(env)
    paths = EnvPaths.for_env(env)
    started = time.monotonic()
    progress("docker engine")
    ensure_engine()
    _raise_inotify_limit(progress)
    progress("images: debian base, host, registry")
    images.ensure_base_image()
    images.ensure_host_image()
    registry.ensure_registry_image()
    progress("secrets, SSH key, certificates")
    paths.ensure()
    secrets = ensure_secrets(paths)
    ensure_ssh_key(paths)
    progress("network and volumes")
    state = _plan_state(env, FleetState.load(paths))
    state.save(paths)
    _issue_certificates(paths, state)
    _ensure_volumes(env)
    progress("registry")
    registry.ensure_registry(paths, state)
    progress("hosts: " + ", ".join(spec.name for spec in model.HOSTS))
    public_key = paths.ssh_key.with_suffix(".pub").read_text()
    with ThreadPoolExecutor(max_workers=len(model.HOSTS)) as pool:
        host_keys = dict(pool.map(lambda spec: _prepare_host(state, spec, public_key), model.HOSTS))
    _write_known_hosts(paths, state, host_keys)
    registry.wait_for_registry(state, str(paths.ca_cert))
    progress("SSH logins")
    for spec in model.HOSTS:
        hosts.wait_for_ssh_login(spec.name, state.hosts[spec.name], paths)
    write_inventory(paths, state, secrets)
    state.save(paths)
    progress(f"fleet {env} is up ({time.monotonic() - started:.0f}s)")
    return state


def down(env: str, *, purge_state: bool = False, progress: Progress = _quiet) -> None:
    """Remove every container, volume and the network of the environment (and its state if asked)."""
    model.check_env_name(env)
    ensure_engine()
    label = f"{model.LABEL}={env}"
    containers = names("container", label)
    if containers:
        progress(f"removing containers: {', '.join(sorted(containers))}")
        docker("rm", "-f", "-v", *containers, step="remove containers")
    volumes = names("volume", label)
    if volumes:
        progress(f"removing volumes: {', '.join(sorted(volumes))}")
        docker("volume", "rm", "-f", *volumes, step="remove volumes")
    if exists("network", model.network_name(env)):
        progress(f"removing network {model.network_name(env)}")
        docker("network", "rm", model.network_name(env), step="remove the network")
    paths = EnvPaths.for_env(env)
    # With its hosts gone nothing is deployed any more: `./deploy.sh local` stands it up again.
    paths.deployed_file.unlink(missing_ok=True)
    if purge_state and paths.root.exists():
        progress(f"removing state {paths.root}")
        shutil.rmtree(paths.root)


@dataclass(frozen=True)
class HostStatus:
    name: str
    container: str
    address: str
    ssh_port: int
    state: str


def status(env: str) -> tuple[FleetState | None, list[HostStatus]]:
    """What runs of the environment: each host's container state and systemd state."""
    model.check_env_name(env)
    ensure_engine()
    state = FleetState.load(EnvPaths.for_env(env))
    if state is None:
        return None, []
    rows = []
    for name, host in sorted(state.hosts.items()):
        if not exists("container", host.container):
            rows.append(HostStatus(name, host.container, host.address, host.ssh_port, "absent"))
            continue
        running = inspect("container", host.container)["State"]["Status"]
        if running == "running":
            systemd = docker(
                "exec", host.container, "systemctl", "is-system-running", step="status", check=False
            ).stdout.strip()
            running = f"running (systemd {systemd or 'unknown'})"
        rows.append(HostStatus(name, host.container, host.address, host.ssh_port, running))
    return state, rows


def is_up(env: str) -> bool:
    """True when every host of the environment runs."""
    state, rows = status(env)
    return state is not None and bool(rows) and all(row.state.startswith("running") for row in rows)
