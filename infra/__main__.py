"""Entry point of `pulumi up`: read the config, build the chosen platform, export its outputs."""

from __future__ import annotations

import sys
from pathlib import Path

# The CLI runs this file by path. `make venv` installs the `infra` package, but a virtualenv built
# before infra/ existed (or by hand) lacks it: fall back to the repository root.
_REPOSITORY = str(Path(__file__).resolve().parents[1])
if _REPOSITORY not in sys.path:
    sys.path.append(_REPOSITORY)

import pulumi  # noqa: E402

from infra import aws as platform_aws  # noqa: E402
from infra import config, outputs  # noqa: E402
from infra import kubernetes as platform_kubernetes  # noqa: E402


def main() -> None:
    settings = config.load()
    if settings.aws is not None:
        exported = platform_aws.build(settings, settings.aws)
    else:
        assert settings.kubernetes is not None
        exported = platform_kubernetes.build(settings, settings.kubernetes)
    exported |= {
        outputs.PLATFORM: settings.platform,
        outputs.ENVIRONMENT: settings.environment,
        outputs.DOMAIN: settings.domain,
    }
    for name, value in exported.items():
        pulumi.export(name, value)


main()
