"""Redis alerts from redis_exporter (job redis). Redis holds the cache, rate limits and the job queue.

Redis runs with `maxmemory-policy noeviction` so that it never drops a queued job: a full Redis
refuses writes instead (cache entries expire on their own TTL), and an eviction means the policy
was changed.
"""

from __future__ import annotations

from dashboards.fleet import REDIS_JOB
from dashboards.rulebook import Alert, RuleFile, RuleGroup

_JOB = f'job="{REDIS_JOB}"'


def rule_file() -> RuleFile:
    alerts = [
        Alert(
            name="RedisDown",
            expr=f"redis_up{{{_JOB}}} == 0",
            severity="critical",
            for_="1m",
            summary="Redis does not answer its exporter.",
            description="redis_exporter on {{ $labels.host }} cannot reach Redis.",
        ),
        Alert(
            name="RedisMemoryHigh",
            # maxmemory 0 means "no limit": no ratio to watch then.
            expr=(
                f"redis_memory_used_bytes{{{_JOB}}} / redis_memory_max_bytes{{{_JOB}}} > 0.90\n"
                f"and\nredis_memory_max_bytes{{{_JOB}}} > 0"
            ),
            severity="warning",
            for_="10m",
            summary="Redis is close to its maxmemory limit.",
            description="Redis on {{ $labels.host }} uses {{ $value | humanizePercentage }} of maxmemory.",
        ),
        Alert(
            name="RedisRejectedConnections",
            expr=f"increase(redis_rejected_connections_total{{{_JOB}}}[5m]) > 0",
            severity="warning",
            summary="Redis refuses client connections.",
            description=(
                "Redis on {{ $labels.host }} rejected {{ $value | humanize }} connections in 5 minutes "
                "(maxclients reached)."
            ),
        ),
        Alert(
            name="RedisEvictingKeys",
            expr=f"increase(redis_evicted_keys_total{{{_JOB}}}[10m]) > 0",
            severity="warning",
            summary="Redis evicts keys to stay under maxmemory.",
            description=(
                "Redis on {{ $labels.host }} evicted {{ $value | humanize }} keys in 10 minutes; queued jobs "
                "may be among them (is maxmemory-policy still noeviction?)."
            ),
        ),
    ]
    return RuleFile(stem="redis", groups=[RuleGroup(name="redis", rules=alerts)])
