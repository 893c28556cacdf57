"""What a tenant owns: its projects, and the videos, sessions and detections under them.

Every read and write goes through these filters, so an object of another tenant is answered
exactly like one that does not exist (404): ids of other tenants' objects do not leak.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ApiError
from app.models import Project, TestSession, Video


def tenant_projects() -> Select[Any]:
    """The ids of the projects of the tenant bound as `tenant` (for compiled page queries)."""
    return select(Project.id).where(Project.tenant == bindparam("tenant"))


def tenant_videos() -> Select[Any]:
    return select(Video.id).where(Video.project_id.in_(tenant_projects()))


def tenant_sessions() -> Select[Any]:
    return select(TestSession.id).where(TestSession.video_id.in_(tenant_videos()))


def _owned_by(tenant: str) -> ColumnElement[bool]:
    return Project.tenant == tenant


async def owned_project(session: AsyncSession, tenant: str, project_id: int) -> Project:
    project = await session.scalar(select(Project).where(Project.id == project_id, _owned_by(tenant)))
    if project is None:
        raise ApiError(404, f"project {project_id} does not exist")
    return project


async def owned_video(session: AsyncSession, tenant: str, video_id: int) -> Video:
    video = await session.scalar(
        select(Video).join(Project, Project.id == Video.project_id).where(Video.id == video_id, _owned_by(tenant))
    )
    if video is None:
        raise ApiError(404, f"video {video_id} does not exist")
    return video


async def owned_session(session: AsyncSession, tenant: str, session_id: int) -> tuple[TestSession, int]:
    """The test session and the id of the project it belongs to."""
    row = (
        await session.execute(
            select(TestSession, Video.project_id)
            .join(Video, Video.id == TestSession.video_id)
            .join(Project, Project.id == Video.project_id)
            .where(TestSession.id == session_id, _owned_by(tenant))
        )
    ).first()
    if row is None:
        raise ApiError(404, f"test session {session_id} does not exist")
    return row[0], row[1]
