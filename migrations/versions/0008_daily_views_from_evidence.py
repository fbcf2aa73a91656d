"""model_daily_performance and score_distribution read the evidence aggregates (same columns;
model_daily_performance gains auc_error_bound), with evidence_bin_edges, the fine score bins
(written by `arbiter db upgrade` from the code that bins scores).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.frozen_views import create_view

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
VIEWS = ("model_daily_performance", "score_distribution")


def upgrade() -> None:
    op.create_table(
        "evidence_bin_edges",
        sa.Column("bin", sa.Integer(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("coarse", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bin", name=op.f("pk_evidence_bin_edges")),
    )
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
        create_view(revision, view)


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
        create_view("0004", view)
    op.drop_table("evidence_bin_edges")
