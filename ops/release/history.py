"""The releases kept for an environment: their images, which one runs, and the last known good.

The history is kept with the environment (ops/release/state_agent.py) and lists releases newest
first. A release becomes `known_good` once it passed every gate on every host, and bad when it
failed or was rolled back from; rollback without `--to` goes back to the newest known-good release
other than the current one, so a second rollback goes further back, never forward to the release
the first one left. A version name is bound to its content: never released again with another.
Pruning keeps the newest N and never the current or the last known-good release, so a rollback
target always exists.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ops.errors import OpsError

DEFAULT_KEEP = 5


class VersionTakenError(OpsError):
    """The version name was released before with other content: nothing was changed."""


@dataclass
class Release:
    version: str
    image: str  # the name the hosts pull
    commit: str
    created_at: float = field(default_factory=time.time)
    known_good: bool = False
    bad_reason: str = ""
    content: str = ""  # the ID of the image the version was stamped on ("" for older records)


@dataclass
class History:
    releases: list[Release] = field(default_factory=list)  # the most recently current first
    current: str = ""  # the version every app host runs

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        try:
            return cls([Release(**item) for item in data.get("releases", [])], data.get("current", ""))
        except TypeError as error:
            raise OpsError(
                "the release history kept with the environment is unreadable",
                step="read the release history",
                detail=str(error),
                fix="look at history.json in the state folder on the lb host; releasing again starts a new one",
            ) from error

    def to_dict(self) -> dict[str, Any]:
        return {"current": self.current, "releases": [asdict(release) for release in self.releases]}

    def find(self, version: str) -> Release | None:
        return next((release for release in self.releases if release.version == version), None)

    def find_image(self, image: str) -> Release | None:
        return next((release for release in self.releases if release.image == image), None)

    def record(self, release: Release) -> None:
        """Add (or refresh) a release at the top of the list."""
        self.releases = [release] + [kept for kept in self.releases if kept.version != release.version]

    def make_current(self, version: str) -> None:
        """`version` runs now: it moves to the top, so the release it replaces next is the one a
        rollback goes back to, and pruning spares it."""
        self.current = version
        found = self.find(version)
        if found is not None:
            self.releases = [found] + [kept for kept in self.releases if kept is not found]

    def check_unused(self, version: str, content: str) -> None:
        """A version name means one content for good: releasing it again with another is refused."""
        kept = self.find(version)
        if kept is not None and kept.content and content and kept.content != content:
            raise VersionTakenError(
                f"version {version} was released before with other content ({kept.content[:19]}, not {content[:19]})",
                step="check the version",
                fix="give this build a new version (`--version`); a version name always means the same image",
            )

    def last_known_good(self, *, excluding: str = "") -> Release | None:
        return next((r for r in self.releases if r.known_good and r.version != excluding), None)

    def rollback_target(self, to: str | None) -> Release:
        """The release `rollback` goes to: `to` if given, else the newest known-good one not running."""
        if to:
            found = self.find(to)
            if found is None:
                kept = ", ".join(release.version for release in self.releases) or "none"
                raise OpsError(
                    f"release {to} is not kept for this environment",
                    step="choose the rollback target",
                    fix=f"pick one of the kept releases ({kept}), or release it again with `--version`",
                )
            return found
        found = self.last_known_good(excluding=self.current)
        if found is None:
            raise OpsError(
                "there is no earlier known-good release to go back to",
                step="choose the rollback target",
                fix="name a kept release with `--to VERSION` (see `./deploy.sh history`)",
            )
        return found

    def prune(self, keep: int = DEFAULT_KEEP) -> list[Release]:
        """Drop releases beyond the newest `keep`, sparing the current and last known-good; return the dropped."""
        protected = {self.current}
        for good in (self.last_known_good(), self.last_known_good(excluding=self.current)):
            if good:
                protected.add(good.version)
        kept: list[Release] = []
        dropped: list[Release] = []
        for release in self.releases:
            if len(kept) < keep or release.version in protected:
                kept.append(release)
            else:
                dropped.append(release)
        self.releases = kept
        return dropped
