"""Shadow path: shadow windows on models, the dead_letters table, the shadow_coverage view.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.frozen_views import create_view

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("shadow_started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("shadow_stopped_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "dead_letters",
        sa.Column("queue", sa.String(length=200), nullable=False),
        sa.Column("message_key", sa.String(length=128), nullable=False),
        sa.Column("model_id", sa.String(length=160), nullable=True),
        sa.Column("detector", sa.String(length=64), nullable=True),
        sa.Column("application_id", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("dead_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("queue", "message_key", name=op.f("pk_dead_letters")),
    )
    op.create_index(op.f("ix_dead_letters_model_id"), "dead_letters", ["model_id"], unique=False)
    create_view(revision, "shadow_coverage")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS shadow_coverage")
    op.drop_index(op.f("ix_dead_letters_model_id"), table_name="dead_letters")
    op.drop_table("dead_letters")
    with op.batch_alter_table("models") as batch:
        batch.drop_column("shadow_stopped_at")
        batch.drop_column("shadow_started_at")
