"""Monitoring end to end on the e2e fleet: dashboards read live data, and alerts fire and resolve.

One scenario, run once for the module on one timeline so the waits overlap:

1. a burst of 500s from the deliberately broken route (`GET /debug/fail`, FAULT_INJECTION) on an
   otherwise idle fleet starts the fast-burn availability page's `for: 2m`;
2. meanwhile Redis is stopped on cache until RedisDown fires in Alertmanager, then started
   again until it resolves;
3. once the page fires, a bounded load through the lb (reads with several API keys, plus an
   upload the worker processes) brings the error ratio back under the thresholds: the page
   resolves, and every series the dashboards read now exists;
4. every panel query of every committed dashboard is run against the live Prometheus.

Why the production burn-rate rules can fire and resolve within minutes here (they are not
changed for the test): the page is `(ratio1h > 14.4x budget and ratio5m > 14.4x budget) or
(ratio6h > 6x and ratio30m > 6x)` with `for: 2m`, the budget being 0.1 %. On an idle fleet the
only traffic in the last 5 minutes is the burst, so the 5m ratio is ~100 %; the burst is sized
from the last hour's request count to make the 1h ratio at least twice 1.44 %. Both hold from
the first scrape after the burst, so the page fires after `for` plus a scrape and an evaluation
(~2.5 min). Left alone it would then stay for 30 minutes on a young fleet: the 6h ratio is close
to the 30m ratio when the fleet has served little else, and both are far above 0.6 %. Healthy
traffic is what resolves a real page sooner, so the load sends enough good requests to take the
6h (and with it the 5m) ratio under 0.4 %: errors_6h / 0.004 - requests_6h more requests,
about 250 per error on a fresh fleet. The page resolves at the next evaluation after the load.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import pytest

from dashboards.fleet import API_TRAFFIC
from dashboards.slo import MIN_REQUESTS, availability_slo
from ops.deploy.local import Deployment, site_extra_vars
from ops.fleet.ssh import run_on, ssh_command
from ops.fleet.state import EnvPaths, FleetState
from ops.load import LoadReport, run_load
from ops.playbook import PLAYBOOKS
from ops.smoke import run_smoke
from tests.e2e.conftest import ENV
from tests.e2e.monitoring_on_mon import MonitoringApi, alerts_call

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.timeout(1500)]

REPO = Path(__file__).resolve().parents[2]
COMMITTED_DASHBOARDS = REPO / "dashboards" / "grafana" / "dashboards"
PAGE_ALERT = availability_slo().alert_name
REDIS_ALERT = "RedisDown"
PAGE_THRESHOLD = 14.4 * availability_slo().error_budget  # the 1h/5m pair of the page
# The good-traffic target after the burst: under the 6h/30m pair's 6x (0.6 %) with a margin.
DILUTED_RATIO = 0.004
MIN_BURST = 10
MAX_BURST = 2000
MAX_DILUTION = 15_000
# Requests per API key: under the app's 600 per minute, whatever minute boundaries fall in between.
REQUESTS_PER_KEY = 500
FAIL_SERIES = 'job="api",route="/debug/fail",status="500"'
LOAD_PATHS = ("/api/v1/projects", "/api/v1/videos", "/api/v1/stats")
# Requests per second of each lane. On the local fleet every client reaches nginx from the Docker
# gateway's address, so nginx's per-client limit (200 r/s, roles/nginx) caps the whole test: the
# lanes together stay well under it, leaving room for the upload running beside them.
LANE_RATE = 40.0
FAULT_INJECTION_VARS = (
    "# Written by tests/e2e/test_monitoring.py: GET /debug/fail answers 500 (FAULT_INJECTION).\n"
    'app_environment_extra:\n  FAULT_INJECTION: "true"\n'
)
# Grafana's $__rate_interval with a 15 s scrape interval is 4 x 15 s; $host means All.
RATE_INTERVAL = "1m"
VARIABLES = {"$__rate_interval": RATE_INTERVAL, "$host": ".*"}
POLL_SECONDS = 5.0
# The page fires ~2.5 min after the burst, RedisDown ~1.5 min after the stop: generous bounds for
# a machine shared with other fleets.
FIRE_DEADLINE = 360.0
RESOLVE_DEADLINE = 180.0
# The page route's resolved notification leaves at the group's next group_interval (5m).
DELIVERY_DEADLINE = 390.0
# The local webhook receiver on mon (roles/monitoring): one JSON line per notification.
RECEIVER_LOG = "/var/lib/slipway-webhook/{receiver}.jsonl"
# Listings with a key answer 200: good events that bring an idle fleet to the page's minimum
# traffic (dashboards.slo.MIN_REQUESTS in the hour), with a margin for extrapolation. Their series
# exists at zero on every API instance from its start, so increase() counts every one; the 401s
# and 429s of unauthenticated requests would create their series mid-padding, and a series' first
# scrape counts nothing.
PADDING_PATH = "/api/v1/projects"


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    ref_id: str
    expr: str


def committed_panel_queries() -> list[PanelQuery]:
    """Every Prometheus query of every committed dashboard JSON, Grafana's variables filled in."""
    queries = []
    for path in sorted(COMMITTED_DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text())
        panels = [p for top in dashboard["panels"] for p in (top, *top.get("panels", []))]
        for panel in panels:
            for target in panel.get("targets", []):
                expr = target["expr"]
                for variable, value in VARIABLES.items():
                    expr = expr.replace(variable, value)
                queries.append(PanelQuery(dashboard["uid"], panel["title"], target["refId"], expr))
    return queries


@dataclass
class Timeline:
    """What the scenario saw; times in seconds (None: not reached). Written to the env's logs."""

    burst_errors: int = 0
    page_fired_after_burst: float | None = None
    redis_fired_after_stop: float | None = None
    redis_resolved_after_start: float | None = None
    good_requests: int = 0
    load_seconds: float = 0.0
    load_failures: dict[str, dict[str, int]] = field(default_factory=dict)  # path -> status -> count
    video_processing_seconds: float | None = None
    page_resolved_after_load: float | None = None
    panel_series: dict[str, int] = field(default_factory=dict)
    padding_requests: int = 0
    page_delivered: bool = False
    page_resolved_delivered_after_load: float | None = None
    heartbeat_gaps: list[float] = field(default_factory=list)
    total_seconds: float = 0.0
    failure: str = ""


class Fleet:
    """The e2e fleet as the scenario uses it: its lb on loopback, its hosts over SSH, mon's APIs."""

    def __init__(self, env: str) -> None:
        self.env = env
        self.paths = EnvPaths.for_env(env)
        state = FleetState.load(self.paths)
        assert state is not None, f"environment {env} has no state"
        self.state = state
        self.base_url = f"https://127.0.0.1:{state.https_port}"
        self.ca = str(self.paths.ca_cert)
        self.mon = MonitoringApi(env)

    def status(self, path: str) -> int:
        tls = ssl.create_default_context(cafile=self.ca)  # httpx deprecates `verify=<path>`
        with httpx.Client(base_url=self.base_url, verify=tls, timeout=30) as client:
            return client.get(path).status_code

    def create_api_keys(self, count: int, prefix: str) -> list[str]:
        """`count` new API keys from the app's own CLI, in one container session on app1."""
        script = (
            "import subprocess, sys\n"
            "count, prefix = int(sys.argv[1]), sys.argv[2]\n"
            "for i in range(count):\n"
            "    subprocess.run([sys.executable, '-m', 'app', 'create-key', '--name', f'{prefix}-{i}'], check=True)\n"
        )
        containers = run_on(
            self.env, "app1", ["docker", "ps", "--filter", "label=slipway.role=api", "--format", "{{.Names}}"],
            step="find the API container",
        ).split()  # fmt: skip
        assert containers, "no API container runs on app1"
        command = ["docker", "exec", containers[0], "python", "-c", script, str(count), prefix]
        argv = ssh_command(self.paths, self.state, "app1", command)
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=600).stdout
        keys = [line.removeprefix("key: ").strip() for line in out.splitlines() if line.startswith("key: ")]
        assert len(keys) == count, out[-500:]
        return keys

    def load(self, plan: list[tuple[str, str]], requests_each: int) -> dict[str, LoadReport]:
        """Bounded loads through the lb, one lane per path: a lane runs its keys one after the
        other, one request at a time, so the fleet sees one request per path at once (more only
        queue up on a busy machine and turn into slow requests that spend the latency budget)."""

        async def lane(path: str, keys: list[str]) -> LoadReport:
            merged = LoadReport()
            for key in keys:
                report = await run_load(
                    self.base_url + path,
                    concurrency=1,
                    max_requests=requests_each,
                    max_seconds=240,
                    headers={"X-API-Key": key},
                    verify=self.ca,
                    rate=LANE_RATE,
                )
                merged.samples.extend(report.samples)
                merged.seconds += report.seconds
            return merged

        lanes: dict[str, list[str]] = {}
        for path, key in plan:
            lanes.setdefault(path, []).append(key)

        async def every_lane() -> list[LoadReport]:
            return await asyncio.gather(*(lane(path, keys) for path, keys in lanes.items()))

        return dict(zip(lanes, asyncio.run(every_lane()), strict=True))

    def redis(self, action: str) -> None:
        run_on(self.env, "cache", ["systemctl", action, "redis-server"], step=f"{action} Redis")


def _errors_and_requests(mon: MonitoringApi, window: str) -> tuple[float, float]:
    errors = mon.scalar(f'sum(increase(http_requests_total{{{API_TRAFFIC},status=~"5.."}}[{window}]))')
    requests = mon.scalar(f"sum(increase(http_requests_total{{{API_TRAFFIC}}}[{window}]))")
    return errors, requests


def _good_requests_needed(errors_6h: float, requests_6h: float) -> int:
    """Good requests that take the 6h error ratio (and any shorter one) under DILUTED_RATIO."""
    return max(0, math.ceil(errors_6h / DILUTED_RATIO - requests_6h))


def _wait(what: str, condition: Callable[[], bool], deadline: float) -> float:
    """Poll `condition` until it holds; return the seconds it took, or fail naming `what`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > deadline:
            raise AssertionError(f"{what}: not within {deadline:.0f}s")
        time.sleep(POLL_SECONDS)
    return round(time.monotonic() - started, 1)


def _converge_app_role(env: str, extra_vars: dict[str, object]) -> None:
    """site.yml with only the app role's tasks. Not --limit: the role reads the db and cache hosts'
    addresses, which come from their facts, so every host's facts are gathered."""
    paths = EnvPaths.for_env(env)
    log = paths.root / "logs" / "monitoring-e2e-app.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(paths.inventory_file), "site.yml",
        "--tags", "app", "--extra-vars", json.dumps(extra_vars),
    ]  # fmt: skip
    environment = os.environ | {"ANSIBLE_CONFIG": str(PLAYBOOKS / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    completed = subprocess.run(
        command, cwd=PLAYBOOKS, env=environment, capture_output=True, text=True, check=False, timeout=1800
    )
    log.write_text(completed.stdout + completed.stderr, encoding="utf-8")
    assert completed.returncode == 0, f"the app role failed to turn FAULT_INJECTION on, see {log}"


def _ensure_fault_route(fleet: Fleet, deployment: Deployment) -> None:
    """GET /debug/fail must answer 500. On a fleet deployed without FAULT_INJECTION, turn it on
    the way an operator would: a group_vars file of the env's inventory, then the app role."""
    if fleet.status("/debug/fail") == 500:
        return
    overrides = fleet.paths.inventory_dir / "group_vars" / "app" / "fault_injection.yml"
    overrides.parent.mkdir(parents=True, exist_ok=True)
    overrides.write_text(FAULT_INJECTION_VARS)
    _converge_app_role(fleet.env, site_extra_vars(deployment.pull_name, force_image=False))
    _wait("the API answers ready after the restart", lambda: fleet.status("/health/ready") == 200, 180)
    assert fleet.status("/debug/fail") == 500, "FAULT_INJECTION is on, yet GET /debug/fail does not answer 500"


def _alerts_firing(mon: MonitoringApi) -> tuple[bool, bool]:
    """(the availability page, RedisDown) as Alertmanager holds them; one round trip."""
    page, redis = mon.call([alerts_call(PAGE_ALERT, severity="critical"), alerts_call(REDIS_ALERT)])
    return bool(page), bool(redis)


def _burst(fleet: Fleet, timeline: Timeline, errors_6h: float, requests_6h: float) -> int:
    """Size the burst from the last hour's traffic, let every instance's 500 series be scraped
    once (a counter first seen mid-burst hides the burst from rate()), then send it."""
    mon = fleet.mon

    def warmed_up() -> bool:
        for _ in range(4):
            fleet.status("/debug/fail")
        instances = mon.scalar('count(up{job="api"} == 1)')
        return instances > 0 and mon.scalar(f"count(http_requests_total{{{FAIL_SERIES}}})") >= instances

    _, requests_1h = _errors_and_requests(mon, "1h")
    # Below MIN_REQUESTS in the hour the page never fires, by design; an idle fleet gets them first.
    padding = max(0, math.ceil(1.25 * MIN_REQUESTS - requests_1h))
    if padding:
        key = fleet.create_api_keys(1, f"monitoring-padding-{int(time.time())}")[0]
        asyncio.run(
            run_load(
                fleet.base_url + PADDING_PATH,
                concurrency=4,
                max_requests=padding,
                headers={"X-API-Key": key},
                verify=fleet.ca,
            )
        )
    timeline.padding_requests = padding
    requests_1h += padding
    size = max(MIN_BURST, math.ceil(2 * PAGE_THRESHOLD * (requests_1h + MIN_BURST)))
    # Refuse before spending any budget when recovering would take an unbounded load: the
    # scenario needs a young or quiet fleet, like the e2e session's.
    recovery = _good_requests_needed(errors_6h + size + 8, requests_6h + size + 8)
    too_busy = (
        f"this fleet served {requests_1h:.0f} API requests in the last hour and {errors_6h:.0f} errors in 6h:"
        f" a burst of {size} and {recovery} good requests after it exceed the bounds ({MAX_BURST}, {MAX_DILUTION})"
    )
    assert size <= MAX_BURST, too_busy
    assert recovery <= MAX_DILUTION, too_busy
    _wait("the 500 series of /debug/fail exists on every API instance", warmed_up, 120)
    report = asyncio.run(run_load(fleet.base_url + "/debug/fail", concurrency=4, max_requests=size, verify=fleet.ca))
    timeline.burst_errors = sum(1 for sample in report.samples if sample.status == 500)
    assert timeline.burst_errors == size, f"the burst got {sorted({s.status for s in report.samples})}"
    return recovery


def _faults(fleet: Fleet, timeline: Timeline, key_count: int) -> list[str]:
    """Stop Redis while the page is pending; start it once RedisDown fires; wait until the page
    fires and RedisDown resolves. Returns the API keys made meanwhile for the load."""
    burst_end = time.monotonic()
    redis_stopped = redis_started = 0.0
    with ThreadPoolExecutor(max_workers=1) as pool:
        keys = pool.submit(fleet.create_api_keys, key_count, f"monitoring-e2e-{int(time.time())}")
        fleet.redis("stop")
        redis_stopped = time.monotonic()
        while timeline.page_fired_after_burst is None or timeline.redis_resolved_after_start is None:
            if time.monotonic() - burst_end > FIRE_DEADLINE:
                break
            page, redis = _alerts_firing(fleet.mon)
            moment = time.monotonic()
            if page and timeline.page_fired_after_burst is None:
                timeline.page_fired_after_burst = round(moment - burst_end, 1)
            if redis and not redis_started:
                timeline.redis_fired_after_stop = round(moment - redis_stopped, 1)
                fleet.redis("start")
                redis_started = time.monotonic()
            elif not redis and redis_started and timeline.redis_resolved_after_start is None:
                timeline.redis_resolved_after_start = round(moment - redis_started, 1)
            time.sleep(POLL_SECONDS)
        return keys.result()


def _recovery_load(fleet: Fleet, timeline: Timeline, keys: list[str]) -> None:
    """Good traffic (reads with several keys, an upload the worker processes) until the page's
    ratios are under its thresholds; the page must then resolve."""
    needed = _good_requests_needed(*_errors_and_requests(fleet.mon, "6h"))
    smoke_key, load_keys = keys[0], keys[1:]
    assert needed <= len(load_keys) * REQUESTS_PER_KEY, f"{needed} good requests needed, more than the keys allow"
    timeline.good_requests = needed
    used = load_keys[: max(1, math.ceil(needed / REQUESTS_PER_KEY))]
    plan = [(LOAD_PATHS[index % len(LOAD_PATHS)], key) for index, key in enumerate(used)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        smoke = pool.submit(run_smoke, fleet.base_url, Path(fleet.ca), smoke_key, lambda _: None)
        reports = fleet.load(plan, math.ceil(needed / len(used))) if needed else {}
        timeline.video_processing_seconds = round(smoke.result().processing_seconds, 1)
    timeline.load_seconds = round(time.monotonic() - started, 1)
    for path, report in reports.items():
        statuses = timeline.load_failures.setdefault(path, {})
        for sample in report.failures:
            status = f"{sample.status} {sample.error}".strip()
            statuses[status] = statuses.get(status, 0) + 1
    timeline.page_resolved_after_load = _wait(
        f"{PAGE_ALERT} resolves after the load", lambda: not _alerts_firing(fleet.mon)[0], RESOLVE_DEADLINE
    )


def _received(fleet: Fleet, receiver: str) -> list[dict[str, object]]:
    """The notifications the local webhook receiver on mon recorded for `receiver`."""
    path = RECEIVER_LOG.format(receiver=receiver)
    out = run_on(fleet.env, "mon", ["sh", "-c", f"cat {path} 2>/dev/null || true"], step=f"read {path}")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _page_notifications(fleet: Fleet) -> list[str]:
    """The status (firing, resolved) of each notification to `page` that holds the availability page."""
    statuses = []
    for record in _received(fleet, "page"):
        payload = record["payload"]
        assert isinstance(payload, dict)
        for alert in payload["alerts"]:
            if alert["labels"].get("alertname") == PAGE_ALERT and alert["labels"].get("severity") == "critical":
                statuses.append(alert["status"])
    return statuses


def _deliveries(fleet: Fleet, timeline: Timeline, since: float) -> None:
    """Wait for the page's resolved notification at the receiver; note the Watchdog's cadence
    during the scenario (earlier tests restart the hosts, and a gap across mon's restart is due)."""
    resolved_at = time.monotonic()
    deadline = resolved_at + DELIVERY_DEADLINE
    statuses = _page_notifications(fleet)
    while "resolved" not in statuses and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS * 2)
        statuses = _page_notifications(fleet)
    timeline.page_delivered = "firing" in statuses
    if "resolved" in statuses:
        timeline.page_resolved_delivered_after_load = round(time.monotonic() - resolved_at, 1)
    arrivals = [float(record["received"]) for record in _received(fleet, "heartbeat")]  # type: ignore[arg-type]
    arrivals = [moment for moment in arrivals if moment >= since]
    timeline.heartbeat_gaps = [round(b - a, 1) for a, b in itertools.pairwise(arrivals)]


def _read_dashboards(fleet: Fleet, timeline: Timeline, since: float) -> None:
    queries = committed_panel_queries()
    matrices = fleet.mon.query_ranges([q.expr for q in queries], since, time.time(), "15s")
    # Numbered: two panels of a dashboard may share a title, and each query must count once.
    for number, (query, matrix) in enumerate(zip(queries, matrices, strict=True), start=1):
        timeline.panel_series[f"{number:03d} {query.dashboard} / {query.panel} / {query.ref_id}"] = len(matrix)


def _run_scenario(fleet: Fleet, deployment: Deployment, timeline: Timeline) -> None:
    began, wall_began = time.monotonic(), time.time()
    _wait("every API target is up", lambda: fleet.mon.scalar('min(up{job="api"})') == 1, 120)
    assert _alerts_firing(fleet.mon) == (False, False), "the page or RedisDown fired before the scenario"
    _ensure_fault_route(fleet, deployment)
    # The good requests the recovery will need, estimated before the burst, so the keys for them
    # are made while the alerts are pending.
    expected = _burst(fleet, timeline, *_errors_and_requests(fleet.mon, "6h"))
    # One key more for the upload, whose status polls would eat into a load key's rate limit.
    keys = _faults(fleet, timeline, math.ceil(expected * 1.2 / REQUESTS_PER_KEY) + 2)
    assert timeline.page_fired_after_burst is not None, f"{PAGE_ALERT} did not fire within {FIRE_DEADLINE:.0f}s"
    assert timeline.redis_resolved_after_start is not None, f"{REDIS_ALERT} did not fire and resolve in time"
    _recovery_load(fleet, timeline, keys)
    time.sleep(20)  # one more scrape of what the load left behind
    _read_dashboards(fleet, timeline, wall_began - 60)
    _deliveries(fleet, timeline, wall_began)
    timeline.total_seconds = round(time.monotonic() - began, 1)


@pytest.fixture(scope="module")
def timeline(e2e_fleet: Deployment) -> Timeline:
    fleet = Fleet(ENV)
    result = Timeline()
    try:
        _run_scenario(fleet, e2e_fleet, result)
    except AssertionError as error:
        result.failure = str(error)
    finally:
        fleet.redis("start")  # leave the fleet healthy, whatever failed
        record = fleet.paths.root / "logs" / "monitoring-e2e.json"
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(asdict(result), indent=2) + "\n")
    return result


def test_redis_down_fires_and_resolves_in_alertmanager(timeline: Timeline) -> None:
    assert timeline.redis_fired_after_stop is not None, timeline.failure
    assert timeline.redis_resolved_after_start is not None, timeline.failure


def test_fast_burn_page_fires_and_resolves_in_alertmanager(timeline: Timeline) -> None:
    assert timeline.page_fired_after_burst is not None, timeline.failure
    assert timeline.page_resolved_after_load is not None, timeline.failure


def test_recovery_load_through_lb_is_answered(timeline: Timeline) -> None:
    assert timeline.video_processing_seconds is not None, timeline.failure
    failed = {path: statuses for path, statuses in timeline.load_failures.items() if statuses}

    assert failed == {}


def test_every_panel_query_returns_a_series(timeline: Timeline) -> None:
    empty = [name for name, count in timeline.panel_series.items() if count == 0]

    assert len(timeline.panel_series) == len(committed_panel_queries()), timeline.failure
    assert empty == []


def test_page_reaches_receiver_firing_then_resolved(timeline: Timeline) -> None:
    assert timeline.page_delivered, timeline.failure
    assert timeline.page_resolved_delivered_after_load is not None, timeline.failure


def test_watchdog_heartbeat_arrives_every_minute(timeline: Timeline) -> None:
    # Alertmanager repeats the heartbeat at each group_interval tick (1m; repeat_interval is
    # below it, so every tick is due): a minute apart.
    assert len(timeline.heartbeat_gaps) >= 3, timeline.failure
    assert max(timeline.heartbeat_gaps) <= 90, timeline.heartbeat_gaps
