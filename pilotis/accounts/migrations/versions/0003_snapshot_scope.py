"""Séance snapshots record the row scope they were rendered with.

A snapshot frozen by someone who sees the whole département must not open for someone restricted
to one EPCI. Existing rows get NULL, read as "every row of the département": only principals
without a row restriction may open them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("seance_snapshots") as batch:
        batch.add_column(sa.Column("scope", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("seance_snapshots") as batch:
        batch.drop_column("scope")
