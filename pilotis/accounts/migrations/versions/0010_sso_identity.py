"""Single sign-on: an account remembers which provider or directory vouches for it, and under which id.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("auth_source", sa.String(length=40), nullable=True))
    op.add_column("users", sa.Column("external_subject", sa.String(length=255), nullable=True))
    op.create_index("ix_users_auth_source_subject", "users", ["auth_source", "external_subject"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_users_auth_source_subject", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("external_subject")
        batch.drop_column("auth_source")
