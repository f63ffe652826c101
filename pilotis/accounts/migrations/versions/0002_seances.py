"""Séance mode: frozen snapshots and display links of wall screens.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seance_snapshots",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("seance", sa.String(length=160), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(length=150), nullable=True),
        sa.Column("dashboards", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seance_snapshots")),
    )
    op.create_index("ix_seance_snapshots_seance_created_at", "seance_snapshots", ["seance", "created_at"])
    op.create_table(
        "display_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("seance", sa.String(length=160), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=150), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=150), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_display_links")),
    )


def downgrade() -> None:
    op.drop_table("display_links")
    op.drop_index("ix_seance_snapshots_seance_created_at", table_name="seance_snapshots")
    op.drop_table("seance_snapshots")
