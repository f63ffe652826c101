"""Back-channel logout (OpenID Connect): the provider's session id of each sign-in session, and
the logout tokens already used (replays refused).

Revision ID: 0012bcl
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012bcl"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_sessions") as batch:
        batch.add_column(sa.Column("sso_sid", sa.String(length=300), nullable=True))
    op.create_index("ix_user_sessions_sso_sid", "user_sessions", ["sso_sid"])
    op.create_table(
        "sso_logout_tokens",
        sa.Column("jti_hash", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jti_hash", name=op.f("pk_sso_logout_tokens")),
    )
    op.create_index("ix_sso_logout_tokens_seen_at", "sso_logout_tokens", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_sso_logout_tokens_seen_at", table_name="sso_logout_tokens")
    op.drop_table("sso_logout_tokens")
    op.drop_index("ix_user_sessions_sso_sid", table_name="user_sessions")
    with op.batch_alter_table("user_sessions") as batch:
        batch.drop_column("sso_sid")
