"""The release state of one environment, kept on one of its own hosts (the lb host by default).

This file runs on that host (`python3 -c <this source> OPERATION ROOT`, a JSON request on stdin,
a JSON answer on stdout), so it uses only the standard library. Every operation holds an
exclusive flock on ROOT/.mutex, so controllers on different machines are serialized by the host.

Files under ROOT: `lock.json` (the deploy lock), `fence` (the last fencing token handed out; it
only grows), `journal.json` (the intended state of the release in progress, or of the last one),
`history.json` (kept releases), `audit.jsonl` (one record per line, updated by id) and
`pause.json` (who asked the lock's holder to pause a canary).

Expiry is judged by this host's clock, so controllers with skewed clocks agree. A write carries
the writer's fencing token and is refused unless that token holds the lock: a controller whose
lease lapsed and was taken over can never overwrite the new holder's state.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

Answer = dict[str, Any]


def _read(root: Path, name: str) -> Any:
    try:
        return json.loads((root / name).read_text())
    except FileNotFoundError:
        return None


def _write(root: Path, name: str, data: Any) -> None:
    draft = root / f"{name}.tmp"
    with draft.open("w") as handle:
        handle.write(data if isinstance(data, str) else json.dumps(data, sort_keys=True))
        handle.flush()
        os.fsync(handle.fileno())
    draft.replace(root / name)


def _remove(root: Path, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        (root / name).unlink()


def _audit(root: Path) -> list[dict[str, Any]]:
    try:
        lines = (root / "audit.jsonl").read_text().splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # a torn line never hides the rest of the log
    return records


def _upsert_audit(root: Path, record: dict[str, Any]) -> None:
    """Append `record`, or replace the record with its id (a release's record is updated at its end)."""
    records = _audit(root)
    for position, kept in enumerate(records):
        if kept.get("id") == record.get("id"):
            records[position] = record
            break
    else:
        records.append(record)
    _write(root, "audit.jsonl", "".join(json.dumps(item, sort_keys=True) + "\n" for item in records))


def _holds(lock: Any, token: Any) -> bool:
    return isinstance(lock, dict) and lock.get("token") == token


def acquire(root: Path, request: dict[str, Any], now: float) -> Answer:
    """Take the lock if it is free or lapsed (or if `take_over` names the current token)."""
    lock = _read(root, "lock.json")
    take_over = request.get("take_over")
    if lock and now < lock["expires_at"] and not (take_over and _holds(lock, take_over)):
        return {"ok": False, "held": lock}
    token = int(_read(root, "fence") or 0) + 1
    _write(root, "fence", token)
    mine = {
        "token": token,
        "holder": request["holder"],
        "machine": request.get("machine", ""),
        "pid": request.get("pid", 0),
        "purpose": request["purpose"],
        "acquired_at": now,
        "renewed_at": now,
        "expires_at": now + float(request["ttl"]),
    }
    _write(root, "lock.json", mine)
    return {"ok": True, "lock": mine, "replaced": lock}


def renew(root: Path, request: dict[str, Any], now: float) -> Answer:
    lock = _read(root, "lock.json")
    if not _holds(lock, request["token"]):
        return {"ok": False, "held": lock}
    lock.update(renewed_at=now, expires_at=now + float(request["ttl"]))
    _write(root, "lock.json", lock)
    return {"ok": True, "lock": lock}


def release(root: Path, request: dict[str, Any], _now: float) -> Answer:
    lock = _read(root, "lock.json")
    if not _holds(lock, request["token"]):
        return {"ok": False, "held": lock}
    _remove(root, "lock.json")
    return {"ok": True}


def break_lock(root: Path, request: dict[str, Any], _now: float) -> Answer:
    lock = _read(root, "lock.json")
    _remove(root, "lock.json")
    if request.get("audit"):
        _upsert_audit(root, request["audit"])
    return {"ok": True, "held": lock}


def commit(root: Path, request: dict[str, Any], _now: float) -> Answer:
    """Write the journal, the history and an audit record, only while `token` holds the lock."""
    lock = _read(root, "lock.json")
    if not _holds(lock, request["token"]):
        return {"ok": False, "held": lock}
    if "journal" in request:
        _write(root, "journal.json", request["journal"])
    if "history" in request:
        _write(root, "history.json", request["history"])
    if request.get("audit"):
        _upsert_audit(root, request["audit"])
    return {"ok": True}


def pause(root: Path, request: dict[str, Any], now: float) -> Answer:
    """Ask the command holding the lock to pause (it reads the request between its steps)."""
    lock = _read(root, "lock.json")
    if not lock or now >= lock["expires_at"]:
        return {"ok": False, "held": lock}
    _write(root, "pause.json", {"token": lock["token"], "by": request["by"], "at": now})
    return {"ok": True, "held": lock}


def read(root: Path, request: dict[str, Any], _now: float) -> Answer:
    last = int(request.get("last_audit", 0))
    audit = _audit(root)
    lock = _read(root, "lock.json")
    wanted = _read(root, "pause.json")
    return {
        "ok": True,
        "lock": lock,
        "journal": _read(root, "journal.json"),
        "history": _read(root, "history.json"),
        "audit": audit[-last:] if last else audit,
        # A pause request counts only for the lock it was made against.
        "pause": wanted
        if isinstance(lock, dict) and isinstance(wanted, dict) and _holds(lock, wanted.get("token"))
        else None,
    }


OPERATIONS = {
    "acquire": acquire,
    "renew": renew,
    "release": release,
    "break": break_lock,
    "commit": commit,
    "read": read,
    "pause": pause,
}


def main(argv: list[str]) -> int:
    operation, root = argv[1], Path(argv[2])
    request = json.loads(sys.stdin.read() or "{}")
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (root / ".mutex").open("a") as mutex:
        fcntl.flock(mutex, fcntl.LOCK_EX)
        answer = OPERATIONS[operation](root, request, time.time())
    answer["now"] = time.time()
    sys.stdout.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
