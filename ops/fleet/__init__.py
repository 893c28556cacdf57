"""The local fleet: Debian 12 hosts booting systemd in Docker containers, on a private network.

`python -m ops.fleet up|down|status --env NAME`. Everything of one environment is named
`slipway-<env>-...` and labelled `slipway.env=<env>`; its state, keys and secrets live in
`.slipway/<env>/` at the repository root (git-ignored). docs/fleet.md describes the inventory.
"""
