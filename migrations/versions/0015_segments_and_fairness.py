"""Segments: each application's age band, region, channel and amount band, derived when it is
recorded (applications.segments; the date of birth and zip stay keyed hashes), counted per model,
day and segment by decision and label state (evidence_segments); views model_fairness (approval
and decline rates per age band and region, disparity ratio, fraud caught) and model_segments
(performance split by any dimension). Applications recorded before this revision have no segments.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.frozen_views import create_view

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("applications", sa.Column("segments", JSON_TYPE, nullable=True))
    op.create_table(
        "evidence_segments",
        sa.Column("model_id", sa.String(160), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("segment", sa.String(32), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("label", sa.String(8), nullable=False),
        sa.Column("detector", sa.String(64), nullable=False),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "day", "dimension", "segment", "decision", "label",
                                name=op.f("pk_evidence_segments")),
    )
    op.create_index(op.f("ix_evidence_segments_detector_day"), "evidence_segments", ["detector", "day"])
    create_view(revision, "model_fairness")
    create_view(revision, "model_segments")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS model_segments")
    op.execute("DROP VIEW IF EXISTS model_fairness")
    op.drop_table("evidence_segments")
    op.drop_column("applications", "segments")
