"""Reads nginx's release log on an lb host for the release gate (standard library only).

Run on the lb host as root by ops/release/traffic.py: `python3 -c SOURCE OPERATION LOG_FILE`,
the request as JSON on stdin, one JSON answer on stdout.

  mark   -> {"inode": N, "offset": N}: where the log ends now
  read   {"inode", "offset", "record"} -> {"attempts": [[address, method, path, status, seconds, at], ...],
          "active": {host: "address:port"}, "rotated": bool}: every upstream attempt logged since
          the mark (a request nginx retried on another slot gives one attempt per slot), and the
          slots nginx's upstream record calls active. A log rotated since the mark is read from
          the start of the new file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# Bounds one answer (about 15 minutes at 200 requests/s); older lines are dropped first.
MAX_ATTEMPTS = 200_000


def mark(log_file: Path) -> dict[str, int]:
    try:
        status = log_file.stat()
    except FileNotFoundError:
        return {"inode": 0, "offset": 0}
    return {"inode": status.st_ino, "offset": status.st_size}


def attempts_of(line: str) -> list[list[Any]]:
    """The upstream attempts of one log line: [address, method, path, status, seconds, at]."""
    entry = json.loads(line)
    addresses = [part.strip() for part in str(entry.get("up", "")).split(",")]
    statuses = [part.strip() for part in str(entry.get("us", "")).split(",")]
    times = [part.strip() for part in str(entry.get("urt", "")).split(",")]
    found: list[list[Any]] = []
    for index, address in enumerate(addresses):
        if not address or address == "-" or ":" not in address:
            continue  # nginx answered by itself (a limit, a refused method): no slot to blame
        last = index == len(addresses) - 1
        status = statuses[index] if index < len(statuses) else "-"
        seconds = times[index] if index < len(times) else "-"
        # "-": no answer from the slot (the client went away, 499): the request's own status and time.
        code = int(status) if status.isdigit() else int(entry.get("s", 0)) if last else 502
        took = float(seconds) if seconds.replace(".", "", 1).isdigit() else float(entry.get("rt", 0))
        found.append([address, str(entry.get("m", "")), str(entry.get("u", "")), code, took, float(entry.get("t", 0))])
    return found


def read(log_file: Path, request: dict[str, Any]) -> dict[str, Any]:
    status = mark(log_file)
    offset = int(request.get("offset", 0))
    rotated = status["inode"] != request.get("inode") or status["offset"] < offset
    attempts: list[list[Any]] = []
    if status["inode"]:
        with log_file.open("rb") as log:
            log.seek(0 if rotated else offset)
            for raw in log:
                try:
                    attempts.extend(attempts_of(raw.decode("utf-8", "replace")))
                except (ValueError, TypeError):
                    continue  # a line being written, or not ours
    try:
        record = json.loads(Path(request["record"]).read_text())
        active = {host: f"{entry['address']}:{entry['port']}" for host, entry in record.items()}
    except (OSError, ValueError, KeyError, TypeError):
        active = {}
    return {"attempts": attempts[-MAX_ATTEMPTS:], "active": active, "rotated": rotated}


def main(argv: list[str]) -> int:
    operation, log_file = argv[1], Path(argv[2])
    request = json.loads(sys.stdin.read() or "{}")
    if operation == "mark":
        answer = mark(log_file)
    elif operation == "read":
        answer = read(log_file, request)
    else:
        print(f"unknown operation {operation}", file=sys.stderr)
        return 2
    print(json.dumps(answer, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
