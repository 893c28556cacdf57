"""Tags and name helpers shared by the aws components."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Tagging:
    """The tags every taggable resource of the stack carries, plus its own Name."""

    project: str
    stack: str
    environment: str
    extra: dict[str, str] = field(default_factory=dict)

    def __call__(self, name: str, **more: str) -> dict[str, str]:
        return {
            **self.extra,
            "Project": self.project,
            "Stack": self.stack,
            "Environment": self.environment,
            "ManagedBy": "pulumi",
            "Name": name,
            **more,
        }


REQUIRED_TAGS = ("Project", "Stack", "Environment", "ManagedBy", "Name")
