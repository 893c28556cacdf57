"""Zero-downtime releases on every platform: `./deploy.sh ENV ...`.

`engine` (release, rollback, resume, abort: crash-safe, signals roll back) drives a platform
through `driver` (the interface): `hosts_driver` (VM-style hosts through Ansible, with
`fleet_view`, `probe` and `image`) or `kubernetes_driver` (Pulumi and kubectl); `environments`
picks one. The state kept with the environment: `store` (read and write it), `lock` (the leased,
fenced deploy lock), `journal` (the intended state), `history` (kept releases), `audit` (the
records); `state_agent` is the program that keeps it on the state host, reached through
`transport` (SSH, kubectl exec). `target` names an environment of hosts and its inventory;
`plan` says what a release would do; `signals` turns signals into a rollback.
"""
