"""shadow_coverage and model_drift read the evidence aggregates (same columns): applications and
shadow scores per hour of arrival (evidence_arrivals, evidence_shadow_hours) and each model's
applications in its drift reference bins (evidence_drift). shadow_scores keep the application's
arrival time (from the message), filled in here for the rows already stored. `arbiter evidence
rebuild` fills the new aggregates for rows already stored.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.frozen_views import create_view

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
VIEWS = {"shadow_coverage": "0002", "model_drift": "0005"}  # the view -> the revision it was before
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("shadow_scores", sa.Column("received_at", MOMENT, nullable=True))
    op.execute("UPDATE shadow_scores SET received_at = (SELECT a.received_at FROM applications a "
               "WHERE a.application_id = shadow_scores.application_id)")
    op.create_table(
        "evidence_arrivals",
        sa.Column("detector", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", MOMENT, nullable=False),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("detector", "day", "hour", name=op.f("pk_evidence_arrivals")),
    )
    op.create_table(
        "evidence_shadow_hours",
        sa.Column("model_id", sa.String(160), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", MOMENT, nullable=False),
        sa.Column("detector", sa.String(64), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("last_received_at", MOMENT, nullable=False),
        sa.Column("last_scored_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("model_id", "day", "hour", name=op.f("pk_evidence_shadow_hours")),
    )
    op.create_index(op.f("ix_evidence_shadow_hours_detector_day"), "evidence_shadow_hours", ["detector", "day"])
    op.create_table(
        "evidence_drift",
        sa.Column("model_id", sa.String(160), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("variable", sa.String(64), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        sa.Column("detector", sa.String(64), nullable=False),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "day", "kind", "variable", "bin", name=op.f("pk_evidence_drift")),
    )
    op.create_index(op.f("ix_evidence_drift_detector_day"), "evidence_drift", ["detector", "day"])
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
        create_view(revision, view)


def downgrade() -> None:
    for view, before in VIEWS.items():
        op.execute(f"DROP VIEW IF EXISTS {view}")
        create_view(before, view)
    op.drop_index(op.f("ix_evidence_drift_detector_day"), table_name="evidence_drift")
    op.drop_table("evidence_drift")
    op.drop_index(op.f("ix_evidence_shadow_hours_detector_day"), table_name="evidence_shadow_hours")
    op.drop_table("evidence_shadow_hours")
    op.drop_table("evidence_arrivals")
    op.execute("ALTER TABLE shadow_scores DROP COLUMN received_at")
