"""Entry point of `pulumi up`: read the config, build the chosen platform, export its outputs."""

from __future__ import annotations

import pulumi

from infra import aws as platform_aws
from infra import config, outputs
from infra import kubernetes as platform_kubernetes


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
