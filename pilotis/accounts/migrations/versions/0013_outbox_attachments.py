"""Outbox attachments: a scheduled commission report is e-mailed with its PDF attached.

Revision ID: 0013
Revises: 0012bcl
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012bcl"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_outbox") as batch:
        batch.add_column(sa.Column("attachment", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("attachment_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_outbox") as batch:
        batch.drop_column("attachment_name")
        batch.drop_column("attachment")
