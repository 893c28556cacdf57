"""Ask the fleet's Prometheus and Alertmanager from inside mon, as an operator logged in there would.

Both answer only on mon's private address, over HTTPS with basic auth (MON-02, MON-06): the
calls go through SSH to mon (the fleet's own access path, sudo to read the CA) and run a small
stdlib client there. The web password is the environment's secret on the controller; it travels
on stdin, never on a command line. Many queries share one SSH session, so checking every panel
of every dashboard costs one round trip.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import Any

from ops.fleet.ssh import ssh_command
from ops.fleet.state import EnvPaths, FleetState

PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
WEB_USER = "slipway"
CA_ON_MON = "/etc/prometheus/slipway-ca.crt"

# Runs on mon with Debian's python3 (stdlib only). stdin: {"base", "ca", "user", "password", "calls"};
# stdout: one {"status", "body"} per call, in order.
_CLIENT = r"""
import base64, json, ssl, sys, urllib.error, urllib.parse, urllib.request
job = json.load(sys.stdin)
context = ssl.create_default_context(cafile=job["ca"])
token = base64.b64encode(f'{job["user"]}:{job["password"]}'.encode()).decode()
answers = []
for call in job["calls"]:
    url = job["base"][call["service"]] + call["path"]
    if call["params"]:
        url += "?" + urllib.parse.urlencode([tuple(pair) for pair in call["params"]])
    request = urllib.request.Request(url, headers={"Authorization": "Basic " + token})
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            answers.append({"status": response.status, "body": json.load(response)})
    except urllib.error.HTTPError as error:
        answers.append({"status": error.code, "body": error.read().decode(errors="replace")[:500]})
json.dump(answers, sys.stdout)
"""


class MonitoringQueryError(AssertionError):
    """A call to Prometheus or Alertmanager on mon failed; the message names the call."""


@dataclass(frozen=True)
class Call:
    service: str  # "prometheus" | "alertmanager"
    path: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MonitoringApi:
    env: str

    def _paths_and_state(self) -> tuple[EnvPaths, FleetState]:
        paths = EnvPaths.for_env(self.env)
        state = FleetState.load(paths)
        if state is None or "mon" not in state.hosts:
            raise MonitoringQueryError(f"environment {self.env} has no mon host; bring the fleet up first")
        return paths, state

    def call(self, calls: list[Call]) -> list[Any]:
        """Run every call in one SSH session on mon; return each JSON body (a non-2xx answer raises)."""
        paths, state = self._paths_and_state()
        password_file = paths.secrets_dir / "prometheus_web_password"
        if not password_file.exists():
            raise MonitoringQueryError(f"{password_file} is missing: run site.yml (monitoring role) for {self.env}")
        address = state.hosts["mon"].address
        job = {
            "base": {
                "prometheus": f"https://{address}:{PROMETHEUS_PORT}",
                "alertmanager": f"https://{address}:{ALERTMANAGER_PORT}",
            },
            "ca": CA_ON_MON,
            "user": WEB_USER,
            "password": password_file.read_text().split()[0],
            "calls": [{"service": c.service, "path": c.path, "params": list(c.params)} for c in calls],
        }
        result = subprocess.run(
            ssh_command(paths, state, "mon", ["python3", "-c", _CLIENT]),
            input=json.dumps(job),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            raise MonitoringQueryError(f"the query client on mon exited {result.returncode}: {result.stderr[-800:]}")
        answers = json.loads(result.stdout)
        for call, answer in zip(calls, answers, strict=True):
            if not 200 <= answer["status"] < 300:
                raise MonitoringQueryError(
                    f"{call.service} {call.path} {call.params}: {answer['status']} {answer['body']}"
                )
        return [answer["body"] for answer in answers]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        (body,) = self.call([Call("prometheus", "/api/v1/query", (("query", expr),))])
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def scalar(self, expr: str, default: float = 0.0) -> float:
        """The value of a query that returns one series (default when it returns none)."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else default

    def query_ranges(self, exprs: list[str], start: float, end: float, step: str) -> list[list[dict[str, Any]]]:
        """Range queries over [start, end] (Unix seconds), all in one round trip; one matrix per query."""
        window = (("start", f"{start:.3f}"), ("end", f"{end:.3f}"), ("step", step))
        bodies = self.call([Call("prometheus", "/api/v1/query_range", (("query", e), *window)) for e in exprs])
        return [body["data"]["result"] for body in bodies]

    def alerts(self, alertname: str, **labels: str) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds (not resolved) with this name and labels."""
        (body,) = self.call([alerts_call(alertname, **labels)])
        alerts: list[dict[str, Any]] = body
        return alerts


def alerts_call(alertname: str, **labels: str) -> Call:
    """Alertmanager's list of the alerts it holds (resolved ones are left out) with these labels."""
    matchers = [f'alertname="{alertname}"', *(f'{k}="{v}"' for k, v in sorted(labels.items()))]
    return Call("alertmanager", "/api/v2/alerts", tuple(("filter", m) for m in matchers))
