"""Anomaly reports (« Signaler une anomalie » on a widget, followed up in /signalements) and the
notices sent to the referents of late datasets (one per dataset and late period).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anomaly_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("dashboard", sa.String(length=64), nullable=False),
        sa.Column("widget", sa.String(length=64), nullable=False),
        sa.Column("page", sa.String(length=500), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("shown", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("handled_by", sa.String(length=150), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_anomaly_reports_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anomaly_reports")),
    )
    op.create_index("ix_anomaly_reports_user_id", "anomaly_reports", ["user_id"])
    op.create_index("ix_anomaly_reports_status", "anomaly_reports", ["status"])
    op.create_table(
        "late_dataset_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=100), nullable=False),
        sa.Column("last_period", sa.String(length=20), nullable=False),
        sa.Column("notified_at", sa.DateTime(), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_late_dataset_notices")),
        sa.UniqueConstraint("dataset", "last_period", name="uq_late_dataset_notices_dataset_last_period"),
    )


def downgrade() -> None:
    op.drop_table("late_dataset_notices")
    op.drop_index("ix_anomaly_reports_status", table_name="anomaly_reports")
    op.drop_index("ix_anomaly_reports_user_id", table_name="anomaly_reports")
    op.drop_table("anomaly_reports")
