"""Reference bins of each model's score and top input fields, and the view model_drift.

Models registered before this revision have no `drift_reference` in their manifest, so they
get no bins and do not appear in model_drift; retrain and register them to monitor drift.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.frozen_views import create_view

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_reference_bins",
        sa.Column("model_id", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("variable", sa.String(length=64), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        sa.Column("lower_edge", sa.Float(), nullable=True),
        sa.Column("upper_edge", sa.Float(), nullable=True),
        sa.Column("expected_share", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name=op.f("fk_model_reference_bins_model_id_models")),
        sa.PrimaryKeyConstraint("model_id", "kind", "variable", "bin", name=op.f("pk_model_reference_bins")),
    )
    create_view(revision, "model_drift")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS model_drift")
    op.drop_table("model_reference_bins")
