"""Reasons in the evidence: evidence_reasons (per model, day and decision, how often each input was
among the explanation's reasons, named first, and the sum of its contributions) and
evidence_pair_reasons (per challenger, champion and day, on the applications they decided
differently, each side's reasons); views model_reasons (the dashboard's top reasons per model and
day) and model_disagreements (where two models disagree and why). Counted by the writers as rows are
stored; `arbiter evidence rebuild` counts the days stored before this revision from
decisions.explanation and shadow_scores.explanation (0020).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.frozen_views import create_view

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_reasons",
        sa.Column("model_id", sa.String(160), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("feature", sa.String(64), nullable=False),
        sa.Column("detector", sa.String(64), nullable=False),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.Column("first", sa.Integer(), nullable=False),
        sa.Column("contribution", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "day", "decision", "feature", name=op.f("pk_evidence_reasons")),
    )
    op.create_index(op.f("ix_evidence_reasons_detector_day"), "evidence_reasons", ["detector", "day"])
    op.create_table(
        "evidence_pair_reasons",
        sa.Column("challenger_id", sa.String(160), nullable=False),
        sa.Column("champion_id", sa.String(160), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("challenger_decision", sa.String(16), nullable=False),
        sa.Column("champion_decision", sa.String(16), nullable=False),
        sa.Column("side", sa.String(16), nullable=False),
        sa.Column("feature", sa.String(64), nullable=False),
        sa.Column("detector", sa.String(64), nullable=False),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.Column("contribution", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("challenger_id", "champion_id", "day", "challenger_decision", "champion_decision",
                                "side", "feature", name=op.f("pk_evidence_pair_reasons")),
    )
    op.create_index(op.f("ix_evidence_pair_reasons_detector_day"), "evidence_pair_reasons", ["detector", "day"])
    create_view(revision, "model_reasons")
    create_view(revision, "model_disagreements")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS model_disagreements")
    op.execute("DROP VIEW IF EXISTS model_reasons")
    op.drop_table("evidence_pair_reasons")
    op.drop_table("evidence_reasons")
