"""Redis (redis_exporter): cache, rate limits and job queue on the cache host."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from dashboards.boards.common import Query, new_dashboard, row, stat_panel, timeseries_panel

UID = "slipway-redis"
_REDIS = 'job="redis"'
_RATE = "$__rate_interval"


def build() -> Dashboard:
    hits = f"rate(redis_keyspace_hits_total{{{_REDIS}}}[{_RATE}])"
    misses = f"rate(redis_keyspace_misses_total{{{_REDIS}}}[{_RATE}])"
    return (
        new_dashboard(UID, "Slipway / Redis", "Redis on cache: memory, clients, commands, keys and evictions.")
        .with_row(row("Health"))
        .with_panel(
            stat_panel(
                "Redis up",
                "1 when redis_exporter reaches the server (redis_up).",
                "none",
                Query(f"min(redis_up{{{_REDIS}}})", "up"),
                thresholds=[(None, "red"), (1, "green")],
                width=8,
            )
        )
        .with_panel(
            stat_panel(
                "Memory used",
                "Memory Redis uses for data and overhead.",
                "bytes",
                Query(f"sum(redis_memory_used_bytes{{{_REDIS}}})", "used"),
                thresholds=[(None, "blue")],
                width=8,
            )
        )
        .with_panel(
            stat_panel(
                "Connected clients",
                "Client connections open now (API slots, workers, exporter).",
                "none",
                Query(f"sum(redis_connected_clients{{{_REDIS}}})", "clients"),
                thresholds=[(None, "blue")],
                width=8,
            )
        )
        .with_row(row("Load"))
        .with_panel(
            timeseries_panel(
                "Commands",
                "Commands processed per second.",
                "ops",
                Query(f"sum(rate(redis_commands_processed_total{{{_REDIS}}}[{_RATE}]))", "commands/s"),
            )
        )
        .with_panel(
            timeseries_panel(
                "Keyspace hit ratio",
                "Share of key lookups that found the key.",
                "percentunit",
                Query(f"sum({hits}) / (sum({hits}) + sum({misses}))", "hit ratio"),
            )
        )
        .with_panel(
            timeseries_panel(
                "Memory",
                "Memory used against the maxmemory limit (0 means no limit).",
                "bytes",
                Query(f"sum(redis_memory_used_bytes{{{_REDIS}}})", "used"),
                Query(f"sum(redis_memory_max_bytes{{{_REDIS}}})", "maxmemory"),
            )
        )
        .with_panel(
            timeseries_panel(
                "Clients",
                "Connected and blocked clients (workers block on the queue).",
                "none",
                Query(f"sum(redis_connected_clients{{{_REDIS}}})", "connected"),
                Query(f"sum(redis_blocked_clients{{{_REDIS}}})", "blocked"),
            )
        )
        .with_panel(
            timeseries_panel(
                "Keys",
                "Keys per database.",
                "none",
                Query(f"sum by (db) (redis_db_keys{{{_REDIS}}})", "{{db}}"),
            )
        )
        .with_panel(
            timeseries_panel(
                "Expired and evicted keys",
                "Keys expired by TTL and evicted under memory pressure, per second.",
                "ops",
                Query(f"sum(rate(redis_expired_keys_total{{{_REDIS}}}[{_RATE}]))", "expired"),
                Query(f"sum(rate(redis_evicted_keys_total{{{_REDIS}}}[{_RATE}]))", "evicted"),
            )
        )
    )
