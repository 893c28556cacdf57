"""Alerts on the monitoring itself: scrape targets, exporters, TLS probes, Prometheus, the pipeline."""

from __future__ import annotations

from dashboards.fleet import BLACKBOX_JOB, PROMETHEUS_JOB, SCRAPE_JOBS
from dashboards.rulebook import Alert, RuleFile, RuleGroup

_DAY = 86400


def _target_alerts() -> list[Alert]:
    alerts = [
        Alert(
            name="TargetDown",
            expr="up == 0",
            severity="warning",
            for_="5m",
            summary="Prometheus cannot scrape a target.",
            description="{{ $labels.job }} target {{ $labels.instance }} on {{ $labels.host }} is down.",
        )
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
        expr=f'probe_ssl_earliest_cert_expiry{{job="{BLACKBOX_JOB}"}} - time() < {days} * {_DAY}',
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
            expr=f"prometheus_notifications_alertmanagers_discovered{{{prometheus}}} < 1",
            severity="warning",
            for_="10m",
            summary="Prometheus has no Alertmanager to send alerts to.",
            description=("Prometheus on {{ $labels.host }} knows {{ $value }} Alertmanagers; alerts reach nobody."),
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
