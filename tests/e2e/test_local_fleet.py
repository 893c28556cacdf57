"""End to end on the local fleet: provision from nothing, idempotence, the smoke path through
nginx over TLS, a restarted host coming back serving, and storage shared by the app hosts."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from ops.deploy.local import Deployment, site_extra_vars
from ops.fleet import model
from ops.fleet.ssh import run_on
from ops.fleet.state import EnvPaths
from ops.playbook import run_playbook
from ops.smoke import create_api_key, make_clip, run_smoke, smoke_client, smoke_env
from tests.e2e.api_on_host import call
from tests.e2e.conftest import ENV

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.timeout(2400)]


def test_provision_from_nothing_succeeds_on_every_host(e2e_fleet: Deployment) -> None:
    recap = e2e_fleet.site.recap

    assert sorted(recap) == sorted(spec.name for spec in model.HOSTS)
    assert all(host.failed == 0 and host.unreachable == 0 for host in recap.values()), recap


def test_second_site_run_changes_nothing(e2e_fleet: Deployment) -> None:
    again = run_playbook(ENV, "site.yml", extra_vars=site_extra_vars(e2e_fleet.pull_name, force_image=False))

    assert again.changed == dict.fromkeys(again.recap, 0), f"see {again.log}"
    assert sorted(again.recap) == sorted(spec.name for spec in model.HOSTS)


def test_smoke_path_through_nginx_over_tls(e2e_fleet: Deployment) -> None:
    result = smoke_env(ENV)

    assert result.videos_total >= 1


def test_http_redirects_to_https(e2e_fleet: Deployment) -> None:
    import httpx  # noqa: PLC0415

    response = httpx.get(f"http://127.0.0.1:{e2e_fleet.state.http_port}/health/live", follow_redirects=False)

    assert response.status_code in (301, 308)
    assert response.headers["location"].startswith("https://")


def _wait_until_serving(https_port: int, ca: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with smoke_client(f"https://127.0.0.1:{https_port}", ca) as client:
                response = client.get("/health/ready")
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
        except Exception as error:
            last = repr(error)
        time.sleep(2)
    raise AssertionError(f"not serving {timeout:.0f}s after the restart: {last}")


def _api_healthy_on(host: str, timeout: float = 300) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = run_on(
                ENV,
                host,
                ["docker", "ps", "--filter", "label=slipway.role=api", "--format", "{{.Status}}"],
                step="check",
            )
            if "(healthy)" in status:
                return True
        except Exception:  # noqa: S110 - the host is still booting
            pass
        time.sleep(2)
    return False


def test_restarted_hosts_come_back_serving_without_a_manual_step(e2e_fleet: Deployment) -> None:
    subprocess.run(
        ["docker", "restart", model.container_name(ENV, "lb"), model.container_name(ENV, "app1")],
        check=True,
        capture_output=True,
    )

    assert _api_healthy_on("app1"), "the API on app1 did not come back healthy"
    _wait_until_serving(e2e_fleet.state.https_port, EnvPaths.for_env(ENV).ca_cert)
    api_key = create_api_key(ENV, "app1")
    assert run_smoke(f"https://127.0.0.1:{e2e_fleet.state.https_port}", EnvPaths.for_env(ENV).ca_cert, api_key)


def test_video_uploaded_through_app1_is_readable_through_app2(e2e_fleet: Deployment, tmp_path: Path) -> None:
    api_key = create_api_key(ENV, "app1", name="e2e-shared-storage")
    created = _create_project(e2e_fleet, api_key)
    clip = make_clip(tmp_path / "shared.mp4").read_bytes()

    accepted = call(
        ENV, "app1", "POST", f"/api/v1/projects/{created}/videos", api_key, upload=clip, filename="shared.mp4"
    )
    assert accepted.status == 202, accepted.body
    video_id = accepted.json()["id"]

    video: dict[str, object] = {}
    for _ in range(120):
        video = call(ENV, "app2", "GET", f"/api/v1/videos/{video_id}", api_key).json()
        if video["status"] in ("ready", "failed"):
            break
        time.sleep(1)
    assert video["status"] == "ready", video
    thumbnail_on_app2 = call(ENV, "app2", "GET", f"/api/v1/videos/{video_id}/thumbnail", api_key)
    thumbnail_on_app1 = call(ENV, "app1", "GET", f"/api/v1/videos/{video_id}/thumbnail", api_key)
    assert thumbnail_on_app2.status == 200
    assert thumbnail_on_app2.body[:2] == b"\xff\xd8"  # a JPEG
    assert thumbnail_on_app1.body == thumbnail_on_app2.body


def _create_project(e2e_fleet: Deployment, api_key: str) -> int:
    url = f"https://127.0.0.1:{e2e_fleet.state.https_port}"
    with smoke_client(url, EnvPaths.for_env(ENV).ca_cert, api_key) as client:
        response = client.post("/api/v1/projects", json={"name": "e2e-shared"})
        response.raise_for_status()
        return int(response.json()["id"])
