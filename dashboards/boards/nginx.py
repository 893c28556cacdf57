"""nginx on lb (nginx-prometheus-exporter reading stub_status): connections and requests."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from dashboards.boards.common import Query, new_dashboard, row, stat_panel, timeseries_panel

UID = "slipway-nginx"
_NGINX = 'job="nginx"'
_RATE = "$__rate_interval"


def build() -> Dashboard:
    return (
        new_dashboard(UID, "Slipway / nginx", "The nginx load balancer on lb: connections and requests.")
        .with_row(row("Health"))
        .with_panel(
            stat_panel(
                "nginx up",
                "1 when the exporter reads nginx's stub_status (nginx_up).",
                "none",
                Query(f"min(nginx_up{{{_NGINX}}})", "up"),
                thresholds=[(None, "red"), (1, "green")],
                width=8,
            )
        )
        .with_panel(
            stat_panel(
                "Requests",
                "Requests per second nginx handles (all virtual hosts).",
                "reqps",
                Query(f"sum(rate(nginx_http_requests_total{{{_NGINX}}}[{_RATE}]))", "requests/s"),
                thresholds=[(None, "blue")],
                width=8,
            )
        )
        .with_panel(
            stat_panel(
                "Active connections",
                "Client connections open now, including idle keep-alive ones.",
                "none",
                Query(f"sum(nginx_connections_active{{{_NGINX}}})", "active"),
                thresholds=[(None, "blue")],
                width=8,
            )
        )
        .with_row(row("Traffic"))
        .with_panel(
            timeseries_panel(
                "Connections by state",
                "Connections reading a request, writing a response, or waiting (keep-alive).",
                "none",
                Query(f"sum(nginx_connections_reading{{{_NGINX}}})", "reading"),
                Query(f"sum(nginx_connections_writing{{{_NGINX}}})", "writing"),
                Query(f"sum(nginx_connections_waiting{{{_NGINX}}})", "waiting"),
                stacked=True,
            )
        )
        .with_panel(
            timeseries_panel(
                "Accepted, handled and dropped connections",
                "New connections per second; accepted minus handled is what nginx dropped.",
                "ops",
                Query(f"sum(rate(nginx_connections_accepted{{{_NGINX}}}[{_RATE}]))", "accepted"),
                Query(f"sum(rate(nginx_connections_handled{{{_NGINX}}}[{_RATE}]))", "handled"),
                Query(
                    f"sum(rate(nginx_connections_accepted{{{_NGINX}}}[{_RATE}]))\n-\n"
                    f"sum(rate(nginx_connections_handled{{{_NGINX}}}[{_RATE}]))",
                    "dropped",
                ),
            )
        )
        .with_panel(
            timeseries_panel(
                "Requests",
                "Requests per second nginx handles.",
                "reqps",
                Query(f"sum(rate(nginx_http_requests_total{{{_NGINX}}}[{_RATE}]))", "requests/s"),
                width=24,
            )
        )
    )
