"""nginx alerts from nginx-prometheus-exporter reading stub_status (job nginx)."""

from __future__ import annotations

from dashboards.fleet import NGINX_JOB
from dashboards.rulebook import Alert, RuleFile, RuleGroup

_JOB = f'job="{NGINX_JOB}"'


def rule_file() -> RuleFile:
    alerts = [
        Alert(
            name="NginxDown",
            # The exporter exits at start when stub_status is unreachable: then only `up` says so.
            expr=f"nginx_up{{{_JOB}}} == 0\nor\nup{{{_JOB}}} == 0",
            severity="critical",
            for_="1m",
            summary="The nginx load balancer does not answer its exporter.",
            description=(
                "nginx on {{ $labels.host }} does not answer, or its exporter is down "
                "(nginx_up or up of {{ $labels.instance }} is {{ $value }})."
            ),
        ),
        Alert(
            name="NginxDroppedConnections",
            # stub_status counters carry no _total suffix; accepted minus handled is what nginx dropped.
            expr=(
                f"rate(nginx_connections_accepted{{{_JOB}}}[5m])\n-\nrate(nginx_connections_handled{{{_JOB}}}[5m]) > 0"
            ),
            severity="warning",
            for_="5m",
            summary="The nginx load balancer drops client connections.",
            description="nginx on {{ $labels.host }} drops {{ $value | humanize }} connections per second.",
        ),
    ]
    return RuleFile(stem="nginx", groups=[RuleGroup(name="nginx", rules=alerts)])
