"""Release plans: batches from `serial`, what runs where, and the fleet view parser."""

from __future__ import annotations

import pytest

from ops.errors import OpsError
from ops.release.fleet_view import HostView, parse, version_of
from ops.release.plan import batches, make_plan, migration_head

HOSTS = ["app1", "app2", "app3", "app4", "app5"]


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        ("1", [["app1"], ["app2"], ["app3"], ["app4"], ["app5"]]),
        ("2", [["app1", "app2"], ["app3", "app4"], ["app5"]]),
        ("50%", [["app1", "app2", "app3"], ["app4", "app5"]]),
        ("100%", [HOSTS]),
        ("9", [HOSTS]),
    ],
)
def test_batches_follow_serial(serial: str, expected: list[list[str]]) -> None:
    assert batches(HOSTS, serial) == expected


@pytest.mark.parametrize("serial", ["0", "-1", "abc", "150%", "0%", "1.5"])
def test_bad_serial_is_refused_with_the_accepted_forms(serial: str) -> None:
    with pytest.raises(OpsError) as caught:
        batches(HOSTS, serial)

    assert "50%" in caught.value.fix


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("10.0.0.2:5000/slipway/app:0.1.0-a5019e9fe5fe", "0.1.0"),
        ("10.0.0.2:5000/slipway/app:v2-a5019e9fe5fe-dirty", "v2"),
        ("slipway/app:0.1.0-a5019e9-a5019e9fe5fe", "0.1.0-a5019e9"),
        ("registry.example/app:v3", "v3"),
    ],
)
def test_version_is_read_from_the_image_tag(image: str, version: str) -> None:
    assert version_of(image) == version


def test_parse_reads_each_hosts_slots_and_unreachable_hosts() -> None:
    output = (
        'app1 | CHANGED | rc=0 | (stdout) {"active":"green","blue_image":"r/slipway/app:v1-abc1234",'
        '"green_image":"r/slipway/app:v2-abc1234","worker_image":"r/slipway/app:v2-abc1234",'
        '"blue_state":"inactive","green_state":"active","worker_state":"active","migrated":"r/slipway/app:v2-abc1234"}\n'
        "app2 | UNREACHABLE! => {\n"
    )

    views, unreachable = parse(output)

    assert unreachable == ["app2"]
    assert views["app1"].active_image == "r/slipway/app:v2-abc1234"
    assert views["app1"].warm_slot("r/slipway/app:v1-abc1234") == ""  # blue is stopped


def test_a_warm_slot_runs_the_image_beside_the_active_one() -> None:
    view = HostView("app1", "green", {"blue": "r/app:v1", "green": "r/app:v2"}, {"blue": "active", "green": "active"},
                    "r/app:v2", "active", "r/app:v2")  # fmt: skip

    assert view.warm_slot("r/app:v1") == "blue"
    assert view.warm_slot("r/app:v2") == ""  # the active slot is not warm
    assert view.warm_slot("r/app:v3") == ""


def _view(host: str, image: str) -> HostView:
    return HostView(
        host, "blue", {"blue": image, "green": ""}, {"blue": "active", "green": "inactive"}, image, "active", image
    )


def test_plan_lists_batches_running_versions_and_migrations() -> None:
    views = {host: _view(host, "r/slipway/app:v1-abc1234") for host in ("app1", "app2")}

    plan = make_plan(
        "staging", version="v2", image="r/slipway/app:v2-abc1234", views=views, hosts=["app1", "app2"],
        serial="1", bake=20,
    )  # fmt: skip
    text = plan.render()

    assert plan.batches == [["app1"], ["app2"]]
    assert "app1 v1, app2 v1" in text
    assert f"code head revision {migration_head()}" in text
    assert "batch 2    app2" in text
