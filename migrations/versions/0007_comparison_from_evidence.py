"""champion_challenger_comparison reads the evidence aggregates (same columns, plus
auc_error_bound): it answers in the same time whatever the history, and a day's labels count once
the day is label_maturity_days old.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 12:00:00
"""

from collections.abc import Sequence

from alembic import op

from migrations.frozen_views import create_view

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP VIEW IF EXISTS champion_challenger_comparison")
    create_view(revision, "champion_challenger_comparison")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS champion_challenger_comparison")
    create_view("0004", "champion_challenger_comparison")
