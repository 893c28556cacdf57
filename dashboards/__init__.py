"""Slipway observability as code: SLO rules, infrastructure alerts, Grafana dashboards, Alertmanager."""
