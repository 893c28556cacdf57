"""Alerts on the monitoring itself: scrape targets, exporters, TLS probes, Prometheus, the pipeline."""

from __future__ import annotations

from dashboards.fleet import ALERTMANAGER_JOB, BLACKBOX_JOB, NODE_JOB, PROMETHEUS_JOB, SCRAPE_JOBS
from dashboards.rulebook import Alert, RuleFile, RuleGroup

_DAY = 86400


def _target_alerts() -> list[Alert]:
    alerts = [
        Alert(
            name="HostDown",
            # node_exporter runs on every host, so its target stands for the host; Alertmanager
            # mutes the other alerts of a host that is down.
            expr=f'up{{job="{NODE_JOB}"}} == 0',
            severity="critical",
            for_="2m",
            summary="A host does not answer Prometheus.",
            description="{{ $labels.host }} ({{ $labels.instance }}) has not answered a scrape for 2 minutes.",
        ),
        Alert(
            name="TargetDown",
            expr="up == 0",
            severity="warning",
            for_="5m",
            summary="Prometheus cannot scrape a target.",
            description="{{ $labels.job }} target {{ $labels.instance }} on {{ $labels.host }} is down.",
        ),
    ]
    # absent() needs a literal selector, so each expected job gets its own rule under one name.
    alerts += [
        Alert(
            name="ScrapeJobAbsent",
            expr=f'absent(up{{job="{job}"}})',
            severity="warning",
            for_="10m",
            # absent() already puts the job label on its result; as a rule label it also keeps
            # promtool's linter from taking the rules for duplicates.
            labels={"job": job},
            summary="A scrape job has no targets at all.",
            description=("Prometheus has no target for job {{ $labels.job }}; nothing watches that part of the fleet."),
        )
        for job in SCRAPE_JOBS
    ]
    return alerts


def _certificate(severity: str, days: int) -> Alert:
    return Alert(
        name="TlsCertificateExpiring",
        # blackbox drops the expiry metric once the handshake fails, at the moment of expiry: the
        # last value seen in the past week keeps the alert firing past that moment.
        expr=(f'last_over_time(probe_ssl_earliest_cert_expiry{{job="{BLACKBOX_JOB}"}}[7d]) - time() < {days} * {_DAY}'),
        severity="critical" if severity == "critical" else "warning",
        for_="15m",
        summary="A TLS certificate expires soon.",
        description=("The certificate served at {{ $labels.instance }} expires in {{ $value | humanizeDuration }}."),
    )


def _probe_alerts() -> list[Alert]:
    return [
        _certificate("warning", 21),
        _certificate("critical", 7),
        Alert(
            name="BlackboxProbeFailed",
            expr=f'probe_success{{job="{BLACKBOX_JOB}"}} == 0',
            severity="warning",
            for_="5m",
            summary="A blackbox probe fails.",
            description="The blackbox probe of {{ $labels.instance }} has failed for 5 minutes.",
        ),
    ]


def _prometheus_alerts() -> list[Alert]:
    prometheus = f'job="{PROMETHEUS_JOB}"'
    return [
        Alert(
            name="PrometheusRuleEvaluationFailures",
            expr=f"increase(prometheus_rule_evaluation_failures_total{{{prometheus}}}[5m]) > 0",
            severity="warning",
            for_="15m",
            summary="Prometheus fails to evaluate rules.",
            description=(
                "Prometheus on {{ $labels.host }} failed {{ $value | humanize }} rule evaluations in group "
                "{{ $labels.rule_group }} in 5 minutes; some alerts may never fire."
            ),
        ),
        Alert(
            name="PrometheusAlertmanagerUnreachable",
            # A static config always "discovers" its Alertmanager; what shows it unreachable is
            # failed sends (the Watchdog guarantees there is always something to send).
            expr=(
                f"prometheus_notifications_alertmanagers_discovered{{{prometheus}}} < 1\nor\n"
                f"sum without (alertmanager) (rate(prometheus_notifications_errors_total{{{prometheus}}}[5m]))\n"
                f"/\nsum without (alertmanager) (rate(prometheus_notifications_sent_total{{{prometheus}}}[5m]))"
                " > 0.10"
            ),
            severity="critical",
            for_="10m",
            summary="Prometheus cannot deliver alerts to Alertmanager.",
            description=(
                "Prometheus on {{ $labels.host }} has no Alertmanager or fails to send to it "
                "({{ $value | humanize }}); alerts reach nobody."
            ),
        ),
        Alert(
            name="PrometheusRuleEvaluationsMissed",
            expr=f"increase(prometheus_rule_group_iterations_missed_total{{{prometheus}}}[10m]) > 0",
            severity="warning",
            for_="15m",
            summary="Prometheus skips rule evaluations because a group runs too long.",
            description=(
                "Prometheus on {{ $labels.host }} missed {{ $value | humanize }} evaluations of group "
                "{{ $labels.rule_group }} in 10 minutes; its alerts fire late or not at all."
            ),
        ),
        Alert(
            name="PrometheusConfigReloadFailed",
            expr=f"prometheus_config_last_reload_successful{{{prometheus}}} == 0",
            severity="warning",
            for_="10m",
            summary="Prometheus failed to reload its configuration.",
            description=(
                "Prometheus on {{ $labels.host }} still runs its previous configuration (reload successful: "
                "{{ $value }}); the next restart may not start at all."
            ),
        ),
        Alert(
            name="AlertmanagerConfigReloadFailed",
            expr=f'alertmanager_config_last_reload_successful{{job="{ALERTMANAGER_JOB}"}} == 0',
            severity="warning",
            for_="10m",
            summary="Alertmanager failed to reload its configuration.",
            description=(
                "Alertmanager on {{ $labels.host }} still runs its previous configuration (reload successful: "
                "{{ $value }})."
            ),
        ),
        Alert(
            name="AlertmanagerNotificationsFailing",
            expr=(
                f'sum without (reason) (rate(alertmanager_notifications_failed_total{{job="{ALERTMANAGER_JOB}"}}[5m]))'
                " > 0"
            ),
            severity="critical",
            for_="5m",
            summary="Alertmanager fails to deliver notifications.",
            description=(
                "Alertmanager on {{ $labels.host }} fails {{ $value | humanize }} {{ $labels.integration }} "
                "notifications per second; pages may reach nobody."
            ),
        ),
        Alert(
            name="Watchdog",
            expr="vector(1)",
            severity="info",
            summary="Always firing, to prove that the alerting pipeline works.",
            description=(
                "Fires all the time (value {{ $value }}); when it stops arriving, Prometheus or Alertmanager is broken."
            ),
        ),
    ]


def rule_file() -> RuleFile:
    return RuleFile(
        stem="monitoring",
        groups=[
            RuleGroup(name="targets", rules=_target_alerts()),
            RuleGroup(name="probes", rules=_probe_alerts()),
            RuleGroup(name="prometheus", rules=_prometheus_alerts()),
        ],
    )
