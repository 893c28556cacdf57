"""`./deploy.sh`: the kit's entry point (`python -m ops.deploy <command> ...`).

Each command is a module that registers a subparser in `cli.COMMANDS`; `local` stands up and
deploys the local fleet. Releases and rollbacks (issue 4) add their commands the same way.
"""
