"""One fleet for every end-to-end test: provisioned from nothing once per session, removed at the end.

The fixture runs what `./deploy.sh local --env e2e` runs (images, fleet, registry, site.yml with
the current app image) but leaves the smoke test to the tests themselves.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ops.deploy.local import Deployment, deploy
from ops.fleet import lifecycle

ENV = "e2e"


@pytest.fixture(scope="session")
def e2e_fleet() -> Iterator[Deployment]:
    """The e2e fleet, deployed from nothing. SLIPWAY_E2E_KEEP=1 keeps it afterwards for debugging."""
    lifecycle.down(ENV, purge_state=True)
    deployment = deploy(ENV, smoke=False)
    yield deployment
    if os.environ.get("SLIPWAY_E2E_KEEP") != "1":
        lifecycle.down(ENV, purge_state=True)
