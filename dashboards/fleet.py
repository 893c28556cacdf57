"""Names the rules and dashboards share with the fleet (the metrics the app contract promises)."""

from __future__ import annotations

# Prometheus scrape jobs on the mon host; every series also carries `instance` and `host`.
API_JOB = "api"
WORKER_JOB = "worker"
NODE_JOB = "node"
POSTGRES_JOB = "postgres"
REDIS_JOB = "redis"
NGINX_JOB = "nginx"
PROMETHEUS_JOB = "prometheus"
ALERTMANAGER_JOB = "alertmanager"
BLACKBOX_JOB = "blackbox"

SCRAPE_JOBS = (
    API_JOB,
    WORKER_JOB,
    NODE_JOB,
    POSTGRES_JOB,
    REDIS_JOB,
    NGINX_JOB,
    PROMETHEUS_JOB,
    ALERTMANAGER_JOB,
    BLACKBOX_JOB,
)

# Probes and scrapes are not user traffic: readiness answers 503 on purpose while a slot drains
# during a release, which must not spend the error budget.
API_TRAFFIC = f'job="{API_JOB}",route!~"/health/.*|/metrics"'

# The latency SLO threshold; it must be one of the API histogram's bucket bounds.
LATENCY_THRESHOLD_SECONDS = "0.25"
LATENCY_BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10")

# The Redis list that holds queued video jobs (app/jobqueue.py); redis_exporter reports its length.
QUEUE_KEY = "queue:videos"
