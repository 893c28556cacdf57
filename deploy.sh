#!/usr/bin/env bash
# Slipway's entry point. A thin wrapper: it makes sure the kit's own prerequisites exist (make,
# the Debian packages of ops/packages/, the virtualenv), then hands over to `python -m ops.deploy`,
# where every command lives (ops/deploy/).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo"

usage() {
  cat <<'USAGE'
Usage: ./deploy.sh COMMAND [OPTIONS]

Commands:
  ENV [--version V] release V (default: the current code) to ENV with zero downtime: lock, build and
                    push the image, migrate once, switch the app hosts in batches (blue/green slots
                    behind nginx), gate each batch; any failure or signal rolls every host back.
                    Options: --serial N|P%, --bake SECONDS, --from-image IMAGE, --lease SECONDS.
                    `./deploy.sh local` on a machine with no local fleet yet stands it up first.
  check [FILE]      validate the app definition (default app/slipway.yml): every mistake with its
                    key and the fix, or a summary of what Slipway will run
  up [ENV]          stand up (or converge) a local fleet (default: local): Debian hosts in Docker,
                    hardened and provisioned with Ansible, the current version deployed and
                    smoke-tested through nginx/TLS; safe to run again
  destroy ENV       remove a local fleet, its volumes and its state (.slipway/ENV/)
  rollback ENV [--to V]
                    every app host back to the last known-good (or the named) release
  status ENV        what runs where, the lock, and where the hosts differ from the release journal
  resume ENV        finish a release whose controller stopped (SIGKILL, a lost machine), or bring
                    back hosts a rollback could not reach
  abort ENV         undo such a release: every app host back to where it started
  history ENV       the audit log: who released what, when, the result and why
  plan ENV [--version V]
                    hosts, batches, image and migrations of a release, changing nothing
  lock ENV | unlock ENV
                    hold releases off; break a lock (both recorded in the audit log)
  STACK --version TAG
                    release TAG to a kubernetes stack (Pulumi.STACK.yaml, e.g. k8s-dev): set the
                    image tag, `pulumi up`, wait for the rollout; a failure re-applies the previous tag
  rollback STACK [--to TAG]
                    the same for a kubernetes stack: its previous (or the named) release

Options:
  -h, --help        show this help; `./deploy.sh COMMAND --help` shows a command's options

The lock, the journal, the history and the audit log of an environment live on its lb host, so
every controller that reaches the environment sees them; Ansible logs stay in .slipway/ENV/logs/
(docs/releases.md).
USAGE
}

fail() {
  printf 'error: %s\nwhat to do: %s\n' "$1" "$2" >&2
  exit 1
}

ensure_prerequisites() {
  local log=.slipway/prerequisites.log
  mkdir -p .slipway
  if ! command -v make >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || fail "make and python3-venv are missing" "run: sudo apt-get install -y make python3-venv"
    echo "installing make and python3-venv"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq make python3-venv; } >"$log" 2>&1 \
      || fail "apt-get could not install make and python3-venv (see $log)" "fix apt (apt-get update), then run again"
  fi
  # Debian packages of ops/packages/*.txt and the virtualenv from the lock file; quick when present.
  if ! make --no-print-directory -s venv >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    fail "preparing the Python environment failed (full output: $log)" "fix the error above, then run again"
  fi
}

case "${1:-}" in
  "" | -h | --help | help)
    usage
    exit 0
    ;;
esac

ensure_prerequisites
exec .venv/bin/python -m ops.deploy "$@"
