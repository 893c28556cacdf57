"""PostgreSQL (postgres_exporter): availability, connections, transactions, locks, size."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from dashboards.boards.common import Query, new_dashboard, row, stat_panel, timeseries_panel

UID = "slipway-postgres"
_PG = 'job="postgres"'
_DATABASES = f'{_PG},datname!~"template0|template1"'
_RATE = "$__rate_interval"


def build() -> Dashboard:
    blocks_hit = f"sum(rate(pg_stat_database_blks_hit{{{_DATABASES}}}[{_RATE}]))"
    blocks_read = f"sum(rate(pg_stat_database_blks_read{{{_DATABASES}}}[{_RATE}]))"
    return (
        new_dashboard(
            UID, "Slipway / PostgreSQL", "PostgreSQL on db: connections, transactions, cache, locks and size."
        )
        .with_row(row("Health"))
        .with_panel(
            stat_panel(
                "PostgreSQL up",
                "1 when postgres_exporter reaches the server (pg_up).",
                "none",
                Query(f"min(pg_up{{{_PG}}})", "up"),
                thresholds=[(None, "red"), (1, "green")],
                width=8,
            )
        )
        .with_panel(
            stat_panel(
                "Connections used",
                "Open connections as a share of max_connections.",
                "percentunit",
                Query(
                    f"sum(pg_stat_activity_count{{{_PG}}}) / max(pg_settings_max_connections{{{_PG}}})",
                    "used",
                ),
                thresholds=[(None, "green"), (0.8, "orange"), (0.9, "red")],
                width=8,
            )
        )
        .with_panel(
            stat_panel(
                "Buffer cache hit ratio",
                "Share of block reads served from shared buffers.",
                "percentunit",
                Query(f"{blocks_hit}\n/\n({blocks_hit} + {blocks_read})", "hit ratio"),
                thresholds=[(None, "orange"), (0.95, "green")],
                width=8,
            )
        )
        .with_row(row("Activity"))
        .with_panel(
            timeseries_panel(
                "Connections by state",
                "Backends by state (active, idle, idle in transaction, ...).",
                "none",
                Query(f"sum by (state) (pg_stat_activity_count{{{_PG}}})", "{{state}}"),
                stacked=True,
            )
        )
        .with_panel(
            timeseries_panel(
                "Transactions",
                "Commits and rollbacks per second, per database.",
                "ops",
                Query(
                    f"sum by (datname) (rate(pg_stat_database_xact_commit{{{_DATABASES}}}[{_RATE}]))",
                    "commit {{datname}}",
                ),
                Query(
                    f"sum by (datname) (rate(pg_stat_database_xact_rollback{{{_DATABASES}}}[{_RATE}]))",
                    "rollback {{datname}}",
                ),
            )
        )
        .with_panel(
            timeseries_panel(
                "Longest transaction",
                "Age of the oldest open transaction, by backend state.",
                "s",
                Query(f"max by (state) (pg_stat_activity_max_tx_duration{{{_PG}}})", "{{state}}"),
            )
        )
        .with_panel(
            timeseries_panel(
                "Locks and deadlocks",
                "Locks held by mode, and deadlocks detected per second.",
                "none",
                Query(f"sum by (mode) (pg_locks_count{{{_PG}}})", "{{mode}}"),
                Query(f"sum(rate(pg_stat_database_deadlocks{{{_DATABASES}}}[{_RATE}]))", "deadlocks/s"),
            )
        )
        .with_row(row("Storage"))
        .with_panel(
            timeseries_panel(
                "Database size",
                "Size on disk of each database.",
                "bytes",
                Query(f"pg_database_size_bytes{{{_DATABASES}}}", "{{datname}}"),
                width=24,
            )
        )
    )
