"""Talk to one app host's API directly (inside its API container), bypassing nginx.

The API ports are firewalled to the lb and mon, so the tests go in through SSH and `docker exec`
and call 127.0.0.1 inside the container, as the lb would call the host.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import Any

from ops.fleet.ssh import ssh_command
from ops.fleet.state import EnvPaths, FleetState

# Runs inside the app image (Python stdlib only): METHOD PATH KEY [FILENAME], body on stdin.
_CLIENT = r"""
import sys, urllib.error, urllib.request, uuid
method, path, key = sys.argv[1:4]
data = sys.stdin.buffer.read()
headers = {"X-API-Key": key}
body = None
if data:
    boundary = uuid.uuid4().hex
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{sys.argv[4]}"\r\n'
    head += 'Content-Type: video/mp4\r\n\r\n'
    body = head.encode() + data + f'\r\n--{boundary}--\r\n'.encode()
    headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
request = urllib.request.Request("http://127.0.0.1:8000" + path, data=body, method=method, headers=headers)
try:
    response = urllib.request.urlopen(request, timeout=60)
    status, payload = response.status, response.read()
except urllib.error.HTTPError as error:
    status, payload = error.code, error.read()
sys.stdout.write(f"{status}\n")
sys.stdout.flush()
sys.stdout.buffer.write(payload)
"""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _api_container(env: str, host: str) -> str:
    paths, state = EnvPaths.for_env(env), FleetState.load(EnvPaths.for_env(env))
    assert state is not None
    argv = ssh_command(
        paths, state, host, ["docker", "ps", "--filter", "label=slipway.role=api", "--format", "{{.Names}}"]
    )
    names = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60).stdout.split()
    assert names, f"no API container runs on {host}"
    return names[0]


def call(
    env: str, host: str, method: str, path: str, api_key: str, *, upload: bytes = b"", filename: str = ""
) -> Answer:
    """One HTTP request to the API on `host`, from inside its container."""
    paths, state = EnvPaths.for_env(env), FleetState.load(EnvPaths.for_env(env))
    assert state is not None
    container = _api_container(env, host)
    command = ["docker", "exec", "-i", container, "python", "-c", _CLIENT, method, path, api_key, filename or "x"]
    result = subprocess.run(
        ssh_command(paths, state, host, command), input=upload, capture_output=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    status, _, body = result.stdout.partition(b"\n")
    return Answer(int(status), body)
