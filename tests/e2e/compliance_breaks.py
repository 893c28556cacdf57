"""Ways to break a hardened host on purpose, and the targeted re-converge that repairs them.

Each break names the host, the one control that must then fail, the shell commands that break it
(as an operator's drift would: edit a managed file, reload the service) and the site.yml tags
that own the file. `reconverge` runs site.yml limited to one host and those tags only.
The OS-level breaks (SSH, /etc/shadow) share one host, so only that host runs the long hardening
role again; the other hosts re-converge one service role each, in parallel.
sshd re-executes itself on reload, so SSH breaks wait a moment before the next connection.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ops.fleet.state import EnvPaths
from ops.playbook import PLAYBOOKS, PlaybookRun, parse_line


@dataclass(frozen=True)
class Break:
    name: str
    host: str
    control: str
    script: str
    tags: tuple[str, ...]


BREAKS = (
    Break(
        "root login allowed over SSH",
        "lb",
        "SSH-03",
        "sed -i 's/^PermitRootLogin .*/PermitRootLogin yes/' /etc/ssh/sshd_config && systemctl reload ssh && sleep 2",
        ("hardening",),
    ),
    Break(
        "nginx server_tokens on",
        "lb",
        "LB-06",
        "sed -i 's/server_tokens off;/server_tokens on;/' /etc/nginx/nginx.conf && systemctl reload nginx",
        ("nginx",),
    ),
    Break(
        "TLS 1.0 and 1.1 enabled on nginx",
        "lb",
        "LB-11",
        "sed -i 's/ssl_protocols TLSv1.2 TLSv1.3;/ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;/' /etc/nginx/nginx.conf"
        " && systemctl reload nginx",
        ("nginx",),
    ),
    Break(
        "/etc/shadow world-readable",
        "lb",
        "ALL-40",
        "chmod 0644 /etc/shadow",
        ("hardening",),
    ),
    Break(
        "PostgreSQL trust authentication from anywhere",
        "db",
        "DB-09",
        "sed -i '1i host all all 0.0.0.0/0 trust' /etc/postgresql/15/main/pg_hba.conf"
        " && systemctl reload postgresql@15-main",
        ("postgres",),
    ),
    Break(
        "Redis bound to all addresses",
        "cache",
        "CACHE-02",
        "sed -i 's/^bind .*/bind * -::*/' /etc/redis/redis.conf",
        ("redis",),
    ),
    Break(
        "Redis default user without a password",
        "cache",
        "CACHE-04",
        "sed -i 's/^user default .*/user default on nopass ~* \\&* +@all/' /etc/redis/users.acl"
        " && systemctl restart redis-server",
        ("redis",),
    ),
    Break(
        "SSH password authentication enabled",
        "lb",
        "SSH-04",
        "sed -i 's/^PasswordAuthentication .*/PasswordAuthentication yes/' /etc/ssh/sshd_config"
        " && systemctl reload ssh && sleep 2",
        ("hardening",),
    ),
    Break(
        "node exporter listening on every address (outside the allow-list)",
        "mon",
        "ALL-09",
        "sed -i 's/--web.listen-address=[^ ]*/--web.listen-address=:9100/' /etc/default/prometheus-node-exporter"
        " && systemctl restart prometheus-node-exporter",
        ("common",),
    ),
    Break(
        "Docker inter-container communication and new privileges allowed",
        "app1",
        "APP-07",
        "python3 -c \"import json; p='/etc/docker/daemon.json'; d=json.load(open(p));"
        " d.update({'icc': True, 'no-new-privileges': False}); json.dump(d, open(p, 'w'))\"",
        ("docker",),
    ),
)


def reconverge(env: str, host: str, tags: tuple[str, ...], extra_vars: dict[str, object]) -> PlaybookRun:
    """site.yml on one host, only the given tags; raises with the log's tail when it fails."""
    paths = EnvPaths.for_env(env)
    log = paths.root / "logs" / f"reconverge-{host}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i", str(paths.inventory_file), "site.yml",
        "--limit", host, "--tags", ",".join(tags),
        "--extra-vars", json.dumps(extra_vars),
    ]  # fmt: skip
    environment = os.environ | {
        "ANSIBLE_CONFIG": str(PLAYBOOKS / "ansible.cfg"),
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_NOCOLOR": "1",
    }
    completed = subprocess.run(
        command, cwd=PLAYBOOKS, env=environment, capture_output=True, text=True, check=False, timeout=1200
    )
    log.write_text(completed.stdout + completed.stderr, encoding="utf-8")
    run = PlaybookRun(log=log, recap={}, failures=[], returncode=completed.returncode, seconds=0.0)
    task = ""
    for line in completed.stdout.splitlines():
        task = parse_line(line, task, run)
    if completed.returncode != 0:
        raise AssertionError(f"re-converge of {host} ({','.join(tags)}) failed, see {log}")
    return run
