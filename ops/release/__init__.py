"""Zero-downtime releases on VM-style platforms (local fleet, aws): `./deploy.sh ENV ...`.

One module per concern: `target` (which environment, its inventory and state), `lock` (the
deploy lock), `history` (kept releases, last known good), `audit` (JSON-lines audit log),
`image` (build, tag and push a version), `plan` (what a release would do), `fleet_view` (what
runs where), `runner` (the release and rollback path around playbooks/rollout.yml and
rollback.yml).
"""
