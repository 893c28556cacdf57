"""Read an app definition file into the schema, turning every mistake into what to fix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ops.errors import OpsError
from ops.fleet.state import REPO_ROOT
from ops.service.definition import (
    ABSOLUTE_PATH,
    DATA_SERVICES,
    ENV_NAME,
    HOSTNAME,
    MEMORY,
    NAME,
    REFERENCES,
    SECRET_NAME,
    Definition,
)

# The definition every command and playbook reads (the reference API's) unless the environment
# variable names another.
DEFAULT_DEFINITION = REPO_ROOT / "app" / "slipway.yml"
DEFINITION_VARIABLE = "SLIPWAY_APP_DEFINITION"


def definition_path() -> Path:
    named = os.environ.get(DEFINITION_VARIABLE)
    return Path(named).resolve() if named else DEFAULT_DEFINITION


# Hints for the mistakes pydantic reports only by type, keyed by that type.
_FIXES = {
    "missing": "add it",
    "extra_forbidden": "remove it or fix its spelling",
    "string_pattern_mismatch": "use the form shown",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "float_parsing": "write a number",
    "greater_than_equal": "raise it",
    "less_than_equal": "lower it",
    "too_short": "give at least one",
}


# Steps of a location that name what pydantic tried, not a key: a plain value's type, and the
# kind of an environment variable's value (the step right after the variable's name).
_VALUE_TYPES = {"str", "int", "float", "bool"}
_VALUE_KINDS = {"plain", "reference", *REFERENCES}
# The patterns of the schema, told as an example of the form they want.
_FORMS = {
    MEMORY: "a size such as 512m or 2g",
    ABSOLUTE_PATH: "an absolute path such as /srv/data",
    NAME: "lowercase letters, digits and dashes, e.g. my-api",
    ENV_NAME: "capitals, digits and underscores, e.g. HTTP_TIMEOUT",
    SECRET_NAME: "lowercase and underscores, e.g. secret_key",
    HOSTNAME: "a DNS name such as api.example.com",
}


class DefinitionError(OpsError):
    """A definition that cannot be used: one line per mistake, each naming its key."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(
            f"{shown(path)}: {len(problems)} mistake{'s' if len(problems) != 1 else ''} in the app definition",
            detail="\n".join(problems),
            fix=f"edit {shown(path)} as each line says, then run `./deploy.sh check`",
        )
        self.problems = problems


def shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _tried(location: tuple[int | str, ...], index: int) -> bool:
    """Whether the step at `index` names what pydantic tried rather than a key of the file."""
    part = location[index]
    if not isinstance(part, str):
        return False
    kind_step = index == 2 and location[0] == "environment" and part in _VALUE_KINDS
    return kind_step or part in _VALUE_TYPES or part.startswith("function-")


def _key(location: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for index, part in enumerate(location):
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif not _tried(location, index):
            parts.append(("." if parts else "") + part)
    return "".join(parts) or "(top level)"


def _problem(error: dict[str, Any]) -> str:
    key = _key(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden" and len(error["loc"]) == 2 and error["loc"][0] == "data":
        return f"{key}: unknown data service; the data services are {', '.join(DATA_SERVICES)}"
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        # Checks across keys name the key themselves.
        return message if key == "(top level)" or message.startswith(key) else f"{key}: {message}"
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        return f"{key}: {error['input']!r} is not {_FORMS.get(pattern, 'of the form ' + pattern)}"
    fix = _FIXES.get(kind)
    return f"{key}: {error['msg']}" + (f"; {fix}" if fix else "")


def _problems(error: ValidationError) -> list[str]:
    problems: list[str] = []
    # A value that matches no member of a union is reported once per member; keep one line per
    # key (the first), since the member's name says nothing to the file's author.
    seen: set[str] = set()
    for item in error.errors(include_url=False):
        key = _key(item["loc"])
        if key in seen:
            continue
        seen.add(key)
        problems.append(_problem(dict(item)))
    return problems


def parse(text: str, path: Path) -> Definition:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise DefinitionError(path, [f"not valid YAML at {where}: {getattr(error, 'problem', error)}"]) from None
    if not isinstance(data, dict):
        raise DefinitionError(path, ["the file must be a mapping of keys (service, image, web, ...)"])
    try:
        return Definition.model_validate(data)
    except ValidationError as error:
        raise DefinitionError(path, _problems(error)) from None


def load(path: Path | None = None) -> Definition:
    path = path or definition_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise OpsError(
            f"cannot read the app definition {shown(path)}: {error.strerror}",
            fix="give the path of a definition file (the reference API's is app/slipway.yml)",
        ) from None
    return parse(text, path)
