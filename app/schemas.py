"""Request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from app.models import VideoStatus

T = TypeVar("T")


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    created_at: datetime


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
    created_at: datetime
    updated_at: datetime


class VideoAccepted(BaseModel):
    id: int
    status: VideoStatus


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    video_id: int = Field(gt=0)
    name: str = Field(min_length=1, max_length=200)


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    video_id: int
    name: str
    created_at: datetime


class DetectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frame: int = Field(ge=0)
    timestamp_ms: int = Field(ge=0)
    label: str = Field(min_length=1, max_length=100)
    confidence: float = Field(ge=0, le=1)
    x: float = Field(ge=0)
    y: float = Field(ge=0)
    width: float = Field(gt=0)
    height: float = Field(gt=0)


class DetectionBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
