"""Drive load with `hey` (Debian package) and read its summary."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class LoadResult:
    name: str
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    non_2xx: int
    requests: int
    # CPU time the server process spent per request: unlike req/s, it barely moves when other
    # work shares the machine, so it is the steadier basis for comparing endpoints.
    server_cpu_us: float
    # The same for PostgreSQL (every process of the cluster), when the endpoint uses it.
    database_cpu_us: float = 0.0


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:  # a backend that ended meanwhile
            continue
        total += times.user + times.system
    return total


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _percentile(output: str, percent: int) -> float:
    match = re.search(rf"\s{percent}% in ([\d.]+) secs", output)
    return float(match.group(1)) * 1000 if match else float("nan")


def hey(
    name: str,
    url: str,
    *,
    server_pid: int,
    seconds: int,
    connections: int,
    headers: dict[str, str],
    database_pid: int | None = None,
) -> LoadResult:
    """Run hey for `seconds` with `connections` concurrent connections against a loopback URL.

    hey asks for gzip, as browsers and most HTTP clients do, and runs a closed loop: each
    connection sends its next request when the previous answer arrives.
    """
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("load is only ever sent to 127.0.0.1")
    args = ["hey", "-z", f"{seconds}s", "-c", str(connections)]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    server = [psutil.Process(server_pid)]
    # Backends live as long as their pooled connection, so the tree is taken after the warm-up.
    database = _tree(database_pid) if database_pid else []
    cpu_before, database_before = _cpu_seconds(server), _cpu_seconds(database)
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    cpu_used = _cpu_seconds(server) - cpu_before
    database_used = _cpu_seconds(database) - database_before
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    codes = dict(re.findall(r"\[(\d{3})\]\s+(\d+) responses", output))
    non_2xx = sum(int(count) for code, count in codes.items() if not code.startswith("2"))
    errors = re.search(r"Error distribution:(.*)", output, re.S)
    if errors:
        non_2xx += sum(int(n) for n in re.findall(r"\[(\d+)\]", errors.group(1)))
    requests = sum(int(count) for count in codes.values())
    return LoadResult(
        name=name,
        requests_per_second=float(rps.group(1)) if rps else 0.0,
        p50_ms=_percentile(output, 50),
        p95_ms=_percentile(output, 95),
        p99_ms=_percentile(output, 99),
        non_2xx=non_2xx,
        requests=requests,
        server_cpu_us=cpu_used / max(1, requests) * 1e6,
        database_cpu_us=database_used / max(1, requests) * 1e6,
    )
