"""`make bench` (API part): start throwaway PostgreSQL and Redis, seed, serve, load, print figures.

Every throughput figure is also printed as a ratio to a bare ASGI app measured in the same run,
just before the endpoint, under the same uvicorn settings and concurrency, because the machine is
shared and absolute numbers drift. CPU per request (the API process, and PostgreSQL) is printed
too: it moves far less than req/s or latency when others load the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import httpx

from app.migrate import upgrade
from app.settings import Settings
from ops.appenv import settings_environment
from ops.bench.hostile import (
    huge_frames_video,
    refused_json_body,
    refused_upload,
    stored_huge_video,
    worker_refuses,
)
from ops.bench.load import LoadResult, hey
from ops.bench.memory import MemoryResult, peak_rss
from ops.bench.seed import BENCH_SESSION_ID, DETECTIONS, seed
from ops.bench.videos import big_video, clips
from ops.bench.worker import worker_throughput
from ops.localservices import Postgres, free_port, running_services, wait_for_port

BUILD = Path("build/bench")
SECRET = "bench-secret-key-0123456789abcdef-0123456789"  # noqa: S105 - a throwaway bench database
BARE = "bare ASGI app {}"
ENDPOINTS = {
    "GET /health/live": "/health/live",
    "GET /api/v1/stats (cache hit)": "/api/v1/stats",
    "GET /api/v1/videos (page of 50)": "/api/v1/videos?limit=50",
    "GET /api/v1/videos?project_id (50)": "/api/v1/videos?project_id=7&limit=50",
    "GET /api/v1/videos/{id}": "/api/v1/videos/5000",
    "GET detections (page of 1,000)": f"/api/v1/sessions/{BENCH_SESSION_ID}/detections",
}
UVICORN_FLAGS = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--timeout-keep-alive", "75"]


@contextmanager
def process(args: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=30)
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()


def postmaster_pid(postgres: Postgres) -> int:
    """PostgreSQL's main process; its children are the backends whose CPU the bench adds up."""
    return int((postgres.datadir / "postmaster.pid").read_text().split("\n", 1)[0])


def create_key(settings: Settings) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "app", "create-key", "--name", "bench"],
        env=settings_environment(settings),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split("key: ")[1].strip()


def upload(base: str, key: str, path: Path) -> int:
    with path.open("rb") as handle, httpx.Client(base_url=base, timeout=300) as http:
        project = http.post("/api/v1/projects", json={"name": "bench upload"}, headers={"X-API-Key": key}).json()
        response = http.post(
            f"/api/v1/projects/{project['id']}/videos",
            files={"file": (path.name, handle, "video/x-msvideo")},
            headers={"X-API-Key": key},
        )
    response.raise_for_status()
    return response.status_code


def stream_detections(base: str, key: str) -> int:
    lines = 0
    with (
        httpx.Client(base_url=base, timeout=300) as http,
        http.stream(
            "GET", f"/api/v1/sessions/{BENCH_SESSION_ID}/detections/stream", headers={"X-API-Key": key}
        ) as response,
    ):
        for chunk in response.iter_bytes():
            lines += chunk.count(b"\n")
    if lines != DETECTIONS:
        raise RuntimeError(f"the stream returned {lines} events, expected {DETECTIONS}")
    return lines


def run_endpoints(  # noqa: PLR0917 - the two servers and the load, spelled out
    bare: subprocess.Popen[bytes],
    bare_url: str,
    api: subprocess.Popen[bytes],
    base: str,
    database: int,
    headers: dict[str, str],
    load: dict[str, int],
    warm_up: dict[str, int],
) -> tuple[list[LoadResult], list[LoadResult]]:
    """Each endpoint under load, right after a bare-app run: (endpoint results, bare baselines)."""
    httpx.get(f"{base}/api/v1/stats", headers=headers).raise_for_status()  # the cache now holds it
    results, baselines = [], []
    for name, path in ENDPOINTS.items():
        # The machine is shared and its load drifts, so each endpoint is compared with a
        # bare-app run taken just before it, under the same settings and concurrency.
        hey("warm-up", bare_url, server_pid=bare.pid, headers={}, **warm_up)
        baselines.append(hey(BARE, bare_url, server_pid=bare.pid, headers={}, **load))
        hey(name, base + path, server_pid=api.pid, headers=headers, **warm_up)
        results.append(hey(name, base + path, server_pid=api.pid, database_pid=database, headers=headers, **load))
    return results, baselines


def print_load(results: list[LoadResult], baselines: list[LoadResult]) -> None:
    """One row per endpoint; `x bare` compares it with the bare-app run taken just before it."""
    print(
        f"\n{'endpoint':<36}{'req/s':>8}{'bare':>8}{'x bare':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        f"{'non-2xx':>8}{'API us':>8}{'x bare':>8}{'PG us':>7}"
    )
    for row, bare in zip(results, baselines, strict=True):
        ratio = row.requests_per_second / bare.requests_per_second
        cpu_ratio = bare.server_cpu_us / row.server_cpu_us if row.server_cpu_us else float("nan")
        print(
            f"{row.name:<36}{row.requests_per_second:>8.0f}{bare.requests_per_second:>8.0f}{ratio:>8.2f}"
            f"{row.p50_ms:>8.1f}{row.p95_ms:>8.1f}{row.p99_ms:>8.1f}{row.non_2xx:>8}"
            f"{row.server_cpu_us:>8.0f}{cpu_ratio:>8.2f}{row.database_cpu_us:>7.0f}"
        )
    bare_cpu = sorted(bare.server_cpu_us for bare in baselines)
    print(
        f"(bare ASGI app answering {{}}: {min(b.requests_per_second for b in baselines):.0f}-"
        f"{max(b.requests_per_second for b in baselines):.0f} req/s, {bare_cpu[len(bare_cpu) // 2]:.0f} us CPU/req; "
        "API us and PG us: CPU per request of the API process and of PostgreSQL)"
    )


def print_memory(results: list[MemoryResult]) -> None:
    print(f"\n{'memory (API unless named)':<36}{'RSS before MB':>14}{'peak MB':>9}{'growth MB':>11}")
    for row in results:
        print(f"{row.name:<36}{row.before_mb:>14.1f}{row.peak_mb:>9.1f}{row.growth_mb:>11.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench")
    parser.add_argument("--seconds", type=int, default=10, help="load duration per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("hey"):
        print("hey is missing: run `make system-packages`", file=sys.stderr)
        return 2
    BUILD.mkdir(parents=True, exist_ok=True)

    with running_services() as (postgres, redis):
        storage = BUILD / "storage"
        shutil.rmtree(storage, ignore_errors=True)
        settings = Settings(
            app_env="production",
            database_url=postgres.url,
            redis_url=redis.url,
            secret_key=SECRET,
            storage_path=storage.resolve(),
            upload_tmp_path=(BUILD / "tmp").resolve(),
            max_upload_bytes=300 * 1024 * 1024,
            rate_limit_per_minute=10_000_000,
            stats_cache_seconds=3600,
            log_level="WARNING",
        )
        upgrade(settings)
        print("seeding 10,000 videos and 200,000 detections ...", flush=True)
        seed(postgres)
        key = create_key(settings)
        headers = {"X-API-Key": key}

        bare_port, api_port = free_port(), free_port()
        env = settings_environment(settings)
        bare_cmd = [sys.executable, "-m", "uvicorn", "ops.bench.bare:app", "--port", str(bare_port), *UVICORN_FLAGS]
        api_cmd = [sys.executable, "-m", "app", "serve"]
        load = {"seconds": args.seconds, "connections": args.connections}
        warm_up = {"seconds": 1, "connections": args.connections}  # not measured: fills pools and caches
        with (
            process(bare_cmd, env, bare_port) as bare,
            process(api_cmd, env | {"PORT": str(api_port)}, api_port) as api,
        ):
            bare_url, base = f"http://127.0.0.1:{bare_port}/", f"http://127.0.0.1:{api_port}"
            database = postmaster_pid(postgres)
            results, baselines = run_endpoints(bare, bare_url, api, base, database, headers, load, warm_up)
            print_load(results, baselines)

            video = big_video(BUILD / "upload-200mb.avi")
            huge = huge_frames_video(BUILD / "frames-12000x12000.avi")
            memory = [
                peak_rss("upload of a 200 MB video", api.pid, lambda: upload(base, key, video)),
                peak_rss("NDJSON stream, 200,000 events", api.pid, lambda: stream_detections(base, key)),
                peak_rss("12000x12000 video, refused", api.pid, lambda: refused_upload(base, key, huge)),
                peak_rss("200 MiB JSON body, refused", api.pid, lambda: refused_json_body(base, key, BENCH_SESSION_ID)),
            ]

        # The same endpoints at the production log level (one JSON access-log line per request).
        info_port = free_port()
        info_env = env | {"PORT": str(info_port), "LOG_LEVEL": "INFO"}
        with process(bare_cmd, env, bare_port) as bare, process(api_cmd, info_env, info_port) as api:
            info_base = f"http://127.0.0.1:{info_port}"
            info = run_endpoints(bare, bare_url, api, info_base, database, headers, load, warm_up)
        print("\nat LOG_LEVEL=INFO (production):")
        print_load(*info)

        worker_port = free_port()
        worker_cmd = [sys.executable, "-m", "app", "worker"]
        hostile_id = stored_huge_video(postgres, storage.resolve(), huge)
        with process(worker_cmd, env | {"WORKER_METRICS_PORT": str(worker_port)}, worker_port) as worker:
            memory.append(
                peak_rss(
                    "worker: 12000x12000 video, failed",
                    worker.pid,
                    lambda: worker_refuses(postgres, redis.url, hostile_id),
                )
            )

        print_memory(memory)
        throughput = asyncio.run(worker_throughput(settings, clips(BUILD / "clips")))
        print(
            f"\nworker: {throughput.clips} clips of 720p x 10 s in {throughput.seconds:.2f} s = "
            f"{throughput.clips_per_second:.2f} clips/s (one worker, one job at a time)"
        )

    report = {
        "endpoints": [asdict(row) | {"baseline": asdict(bare)} for row, bare in zip(results, baselines, strict=True)],
        "endpoints_at_info": [asdict(row) | {"baseline": asdict(bare)} for row, bare in zip(*info, strict=True)],
        "memory": [asdict(row) | {"growth_mb": row.growth_mb} for row in memory],
        "worker": asdict(throughput),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (BUILD / "results.json").write_text(json.dumps(report, indent=2))
    print(f"\nfigures written to {BUILD / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
