"""Projects: the owners of videos."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import bindparam, select

from app.cache import stats_key
from app.deps import CursorParam, IdPath, ReadKey, ServicesDep, SessionDep, WriteKey
from app.errors import BODY_ERRORS, KEYED_ERRORS, error_responses, links
from app.models import Project
from app.pagination import MAX_LIMIT, CompiledQuery, json_columns, json_page, page_statement, parse_cursor
from app.schemas import Page, ProjectCreate, ProjectOut
from app.tenancy import owned_project

router = APIRouter(prefix="/api/v1/projects", tags=["projects"], responses=error_responses(*KEYED_ERRORS))


@router.post(
    "",
    status_code=201,
    responses=error_responses(*BODY_ERRORS)
    | links(
        201,
        GetProject=("get", "/api/v1/projects/{project_id}", {"project_id": "$response.body#/id"}),
        UploadVideo=("post", "/api/v1/projects/{project_id}/videos", {"project_id": "$response.body#/id"}),
        ListVideos=("get", "/api/v1/videos", {"project_id": "$response.body#/id"}),
    ),
)
async def create_project(body: ProjectCreate, session: SessionDep, services: ServicesDep, key: WriteKey) -> ProjectOut:
    """Create a project, owned by the key's tenant."""
    project = Project(name=body.name, description=body.description, tenant=key.tenant)
    session.add(project)
    await session.commit()
    await services.stats_cache.invalidate(stats_key(key.tenant, None))
    return ProjectOut.model_validate(project)


@router.get("", response_model=Page[ProjectOut])
async def list_projects(
    key: ReadKey,  # before the connection: refused requests never take one from the pool
    services: ServicesDep,
    cursor: CursorParam = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Response:
    """List the tenant's projects, newest first."""
    after = parse_cursor(cursor)
    params = {"after": after, "tenant": key.tenant}
    page, _ = await json_page(services.reads, _projects_page(after is not None), params, limit)
    return Response(page, media_type="application/json")


@lru_cache
def _projects_page(after: bool) -> CompiledQuery:
    columns = json_columns(getattr(Project, name) for name in ProjectOut.model_fields)
    rows = (
        select(*columns)
        .where(Project.tenant == bindparam("tenant"))
        .order_by(Project.id.desc())
        .limit(bindparam("limit"))
    )
    if after:
        rows = rows.where(Project.id < bindparam("after"))
    return page_statement(rows, descending=True)


@router.get("/{project_id}", responses=error_responses(404))
async def get_project(project_id: IdPath, session: SessionDep, key: ReadKey) -> ProjectOut:
    """One project."""
    return ProjectOut.model_validate(await owned_project(session, key.tenant, project_id))
