"""tenants and scopes

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 07:10:00

Expand only: every new column has a server default, so the previous release (which neither reads
nor writes them) keeps working, and the keys and projects it knows become the default tenant's,
the keys with every scope.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("tenant", sa.String(length=100), server_default="default", nullable=False))
    op.add_column(
        "api_keys", sa.Column("scopes", sa.String(length=100), server_default="read write admin", nullable=False)
    )
    op.add_column("projects", sa.Column("tenant", sa.String(length=100), server_default="default", nullable=False))
    op.create_index("ix_projects_tenant_id", "projects", ["tenant", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_projects_tenant_id", table_name="projects")
    op.drop_column("projects", "tenant")
    op.drop_column("api_keys", "scopes")
    op.drop_column("api_keys", "tenant")
