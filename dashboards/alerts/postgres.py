"""PostgreSQL alerts from postgres_exporter (job postgres)."""

from __future__ import annotations

from dashboards.fleet import POSTGRES_JOB
from dashboards.rulebook import Alert, RuleFile, RuleGroup

_JOB = f'job="{POSTGRES_JOB}"'
_APP_DATABASES = f'{_JOB},datname!~"template0|template1"'


def rule_file() -> RuleFile:
    alerts = [
        Alert(
            name="PostgresDown",
            expr=f"pg_up{{{_JOB}}} == 0",
            severity="critical",
            for_="1m",
            summary="PostgreSQL does not answer its exporter.",
            description="postgres_exporter on {{ $labels.host }} cannot reach PostgreSQL.",
        ),
        Alert(
            name="PostgresTooManyConnections",
            expr=(
                "sum without (datname, state, application_name, usename) (\n"
                f"  pg_stat_activity_count{{{_JOB}}}\n)\n"
                # Superuser slots are not the application's to use: the share is of what is left.
                f"/\n(\n  pg_settings_max_connections{{{_JOB}}}\n  -\n"
                f"  pg_settings_superuser_reserved_connections{{{_JOB}}}\n) > 0.80"
            ),
            severity="warning",
            for_="10m",
            summary="PostgreSQL is close to its connection limit.",
            description=(
                "PostgreSQL on {{ $labels.host }} uses {{ $value | humanizePercentage }} of the connections "
                "open to clients (max_connections less the reserved ones)."
            ),
        ),
        Alert(
            name="PostgresDeadlocks",
            expr=f"increase(pg_stat_database_deadlocks{{{_APP_DATABASES}}}[10m]) > 3",
            severity="warning",
            summary="PostgreSQL transactions are deadlocking.",
            description=(
                "Database {{ $labels.datname }} on {{ $labels.host }} had {{ $value | humanize }} "
                "deadlocks in 10 minutes."
            ),
        ),
        Alert(
            name="PostgresLongRunningTransaction",
            # The duration grows by itself, so a short `for` only rides out one odd scrape: the alert
            # fires about a minute after the 5 minutes its summary promises, not 5 minutes later.
            expr=f'pg_stat_activity_max_tx_duration{{{_JOB},state!="idle"}} > 300',
            severity="warning",
            for_="1m",
            summary="A PostgreSQL transaction has been open for more than 5 minutes.",
            description=(
                "The oldest {{ $labels.state }} transaction in {{ $labels.datname }} on {{ $labels.host }} "
                "has run for {{ $value | humanizeDuration }}."
            ),
        ),
    ]
    return RuleFile(stem="postgres", groups=[RuleGroup(name="postgres", rules=alerts)])
