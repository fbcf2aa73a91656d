"""Strategists' settings and the views model_scores, model_daily_performance,
champion_challenger_comparison and score_distribution.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.frozen_views import create_view

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    settings = op.create_table(
        "view_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label_maturity_days", sa.Float(), nullable=False),
        sa.Column("missed_fraud_cost", sa.Float(), nullable=False),
        sa.Column("false_decline_cost", sa.Float(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_view_settings_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_view_settings")),
    )
    op.bulk_insert(settings, [{"id": 1, "label_maturity_days": 30.0, "missed_fraud_cost": 1000.0,
                               "false_decline_cost": 25.0}])
    create_view(revision, "model_scores")
    create_view(revision, "model_daily_performance")
    create_view(revision, "champion_challenger_comparison")
    create_view(revision, "score_distribution")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS score_distribution")
    op.execute("DROP VIEW IF EXISTS champion_challenger_comparison")
    op.execute("DROP VIEW IF EXISTS model_daily_performance")
    op.execute("DROP VIEW IF EXISTS model_scores")
    op.drop_table("view_settings")
