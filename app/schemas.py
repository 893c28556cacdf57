"""Request and response bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, StringConstraints, WithJsonSchema

from app.models import VideoStatus

T = TypeVar("T")

BIGINT_MAX = 2**63 - 1  # PostgreSQL's bigint: every id and timestamp_ms
# The largest integer every JSON parser keeps exact (IEEE doubles): the bound of integers in bodies.
JSON_INT_MAX = 2**53 - 1
INT_MAX = 2**31 - 1  # PostgreSQL's integer: frame numbers
# PostgreSQL's text cannot hold a NUL character: refused as invalid input, never sent to it.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(pattern=NO_NUL)]


def _integral(value: object) -> object:
    """1.0 is an integer in JSON Schema's terms: take it as 1 (1.5, true and "1" stay refused)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


JsonInt = Annotated[int, BeforeValidator(_integral)]

# One timestamp format everywhere: UTC, microseconds, "Z". PostgreSQL writes the same text for
# the pages it serializes itself (TIMESTAMP_SQL_FORMAT in app/pagination.py).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda value: value.astimezone(UTC).strftime(TIMESTAMP_FORMAT), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

# The JSON body limit, from the largest legal request written out the longest legal way: a batch
# of 10,000 detection events, each label's 100 characters as 12-byte escaped surrogate pairs and
# each number at 24 characters, is under 15 MB. Larger bodies are refused with 413 unparsed.
JSON_BODY_MAX = 16 * 1024 * 1024

# Request bodies take numbers as JSON numbers only (no `true` for 1, no numeric strings) and
# finite (no Infinity or NaN, which PostgreSQL would store and JSON cannot carry back).
STRICT_INPUT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ProjectCreate(BaseModel):
    model_config = STRICT_INPUT

    name: Text = Field(min_length=1, max_length=200)
    description: Text = Field("", max_length=5000)


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    created_at: Timestamp


class VideoOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: int
    filename: str
    content_type: str
    size_bytes: int
    status: VideoStatus
    failure_reason: str | None
    fps: float | None
    frame_count: int | None
    duration_seconds: float | None
    width: int | None
    height: int | None
    codec: str | None
    created_at: Timestamp
    updated_at: Timestamp


class VideoAccepted(BaseModel):
    id: int
    status: VideoStatus


class SessionCreate(BaseModel):
    model_config = STRICT_INPUT

    video_id: JsonInt = Field(gt=0, le=JSON_INT_MAX)
    name: Text = Field(min_length=1, max_length=200)


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    video_id: int
    name: str
    created_at: Timestamp


class DetectionIn(BaseModel):
    model_config = STRICT_INPUT

    frame: JsonInt = Field(ge=0, le=INT_MAX)
    timestamp_ms: JsonInt = Field(ge=0, le=JSON_INT_MAX)
    label: Text = Field(min_length=1, max_length=100)
    confidence: float = Field(ge=0, le=1)
    x: float = Field(ge=0)
    y: float = Field(ge=0)
    width: float = Field(gt=0)
    height: float = Field(gt=0)


class DetectionBatch(BaseModel):
    model_config = STRICT_INPUT

    events: list[DetectionIn] = Field(min_length=1, max_length=10_000)


class DetectionsInserted(BaseModel):
    inserted: int


class DetectionOut(DetectionIn):
    id: int
    session_id: int


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page")


class Stats(BaseModel):
    videos_total: int
    videos_by_status: dict[str, int]
    total_duration_seconds: float
    total_bytes: int
    sessions_total: int
    detections_total: int
    top_labels: list[dict[str, int | str]]


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable, machine-readable: not_found, validation_error, rate_limited, ...")
    message: str = Field(description="For people; may change")
    request_id: str | None = Field(description="The X-Request-ID of the request, also in the logs")
    details: list[dict[str, Any]] | None = Field(None, description="For validation errors: where and why")


class ErrorBody(BaseModel):
    """The body of every error the API answers."""

    error: ErrorInfo
