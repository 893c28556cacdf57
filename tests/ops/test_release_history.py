"""Kept releases: rollback targets and pruning that never loses the current or last known-good."""

from __future__ import annotations

import json

import pytest

from ops.errors import OpsError
from ops.release.history import History, Release


def _history(*versions: str, good: tuple[str, ...] = (), current: str = "") -> History:
    history = History()
    for version in versions:  # oldest first, so the last one is the newest
        history.record(Release(version, f"reg/slipway/app:{version}-abc1234", "abc1234", known_good=version in good))
    history.current = current
    return history


def test_rollback_target_is_newest_known_good_other_than_current() -> None:
    history = _history("v1", "v2", "v3", good=("v1", "v2", "v3"), current="v3")

    assert history.rollback_target(None).version == "v2"


def test_rollback_target_skips_bad_releases() -> None:
    history = _history("v1", "v2", "v3", good=("v1", "v3"), current="v3")

    assert history.rollback_target(None).version == "v1"


def test_rollback_to_unknown_version_lists_the_kept_ones() -> None:
    history = _history("v1", "v2", good=("v1",), current="v2")

    with pytest.raises(OpsError) as caught:
        history.rollback_target("v9")

    assert "v9" in caught.value.message
    assert "v2, v1" in caught.value.fix


def test_rollback_without_earlier_good_release_asks_for_a_version() -> None:
    history = _history("v1", good=("v1",), current="v1")

    with pytest.raises(OpsError) as caught:
        history.rollback_target(None)

    assert "--to" in caught.value.fix


def test_prune_keeps_newest_and_never_drops_current_or_last_known_good() -> None:
    history = _history("v1", "v2", "v3", "v4", "v5", "v6", "v7", good=("v1",), current="v2")

    dropped = history.prune(keep=3)

    kept = [release.version for release in history.releases]
    assert kept == ["v7", "v6", "v5", "v2", "v1"]
    assert [release.version for release in dropped] == ["v4", "v3"]


def test_history_survives_a_round_trip_through_its_document() -> None:
    history = _history("v1", "v2", good=("v1",), current="v2")

    loaded = History.from_dict(json.loads(json.dumps(history.to_dict())))

    assert loaded == history
    assert loaded.find_image("reg/slipway/app:v1-abc1234") == history.find("v1")


def test_corrupt_history_is_a_clear_error() -> None:
    with pytest.raises(OpsError) as caught:
        History.from_dict({"releases": [{"name": "v1"}]})

    assert "unreadable" in caught.value.message
