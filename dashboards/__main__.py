"""`python -m dashboards generate` writes the rules and dashboards; `check` compares them."""

from __future__ import annotations

import argparse
import sys

from dashboards.generate import RUNBOOK_BASE_ENV, differences, expected_files, runbook_base_url, write
from dashboards.rulebook import RuleDefinitionError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards", description=__doc__)
    parser.add_argument("command", choices=["generate", "check"])
    parser.add_argument(
        "--runbook-base-url",
        help=f"repository URL the runbook links start with (default: ${RUNBOOK_BASE_ENV} or the kit's own)",
    )
    args = parser.parse_args(argv)
    try:
        files = expected_files(runbook_base_url(args.runbook_base_url))
    except (RuleDefinitionError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "generate":
        written = write(files)
        print(f"{len(files)} files generated, {len(written)} changed")
        for path in written:
            print(f"  dashboards/{path}")
        return 0
    problems = differences(files)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("run `python -m dashboards generate` and commit the result", file=sys.stderr)
        return 1
    print(f"{len(files)} generated files are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
