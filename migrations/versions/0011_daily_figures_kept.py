"""model_daily_performance reads the figures it takes from the fine bins (quantile bins, the AUC's
sums) from evidence_daily, kept by a refresh, and computes anew only the days whose bins changed
since (evidence_dirty_days, bumped by every writer of evidence_bins; view evidence_daily_live).
Every day already counted starts dirty, so the view is right at once; the first refresh (a
worker's, every 30 s, or `arbiter evidence rebuild`'s) makes it fast. shadow_scores are indexed
by (detector, received_at), their partition key, instead of (detector, scored_at).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.frozen_views import create_view

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_daily",
        sa.Column("model_id", sa.String(160), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("detector", sa.String(64), nullable=False),
        sa.Column("bin_p50", sa.Integer(), nullable=True),
        sa.Column("bin_p90", sa.Integer(), nullable=True),
        sa.Column("bin_p99", sa.Integer(), nullable=True),
        sa.Column("positives", sa.BigInteger(), nullable=False),
        sa.Column("negatives", sa.BigInteger(), nullable=False),
        sa.Column("correct", sa.Float(), nullable=False),
        sa.Column("tied", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "day", name=op.f("pk_evidence_daily")),
    )
    op.create_index(op.f("ix_evidence_daily_detector_day"), "evidence_daily", ["detector", "day"])
    op.create_table(
        "evidence_dirty_days",
        sa.Column("model_id", sa.String(160), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("detector", sa.String(64), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "day", name=op.f("pk_evidence_dirty_days")),
    )
    op.execute("INSERT INTO evidence_dirty_days (model_id, day, detector, generation) "
               "SELECT model_id, day, MIN(detector), 1 FROM evidence_bins GROUP BY model_id, day")
    # a day's shadow scores by their partition key (the rebuild reads them so); nothing reads them by
    # (detector, scored_at)
    op.drop_index("ix_shadow_scores_detector_scored_at", table_name="shadow_scores")
    op.create_index("ix_shadow_scores_detector_received_at", "shadow_scores", ["detector", "received_at"])
    create_view(revision, "evidence_daily_live")
    op.execute("DROP VIEW IF EXISTS model_daily_performance")
    create_view(revision, "model_daily_performance")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS model_daily_performance")
    create_view("0008", "model_daily_performance")
    op.execute("DROP VIEW IF EXISTS evidence_daily_live")
    op.drop_index("ix_shadow_scores_detector_received_at", table_name="shadow_scores")
    op.create_index("ix_shadow_scores_detector_scored_at", "shadow_scores", ["detector", "scored_at"])
    op.drop_table("evidence_dirty_days")
    op.drop_index(op.f("ix_evidence_daily_detector_day"), table_name="evidence_daily")
    op.drop_table("evidence_daily")
