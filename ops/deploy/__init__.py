"""`./deploy.sh`: the kit's command line (`python -m ops.deploy <command> ...`).

The only layer that parses arguments: each command family is a module that registers its
subparsers in `cli.COMMANDS` (`local`: up and destroy of a local fleet; `releases`: release,
rollback, status, resume, abort, history, plan, lock, unlock) and calls the core in ops.release,
ops.fleet and ops.deploy.local.
"""
