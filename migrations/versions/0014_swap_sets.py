"""View swap_sets: per challenger against the champion, the applications the two would decide the
other way (the champion approved and the challenger would decline, and the reverse), with their
mature frauds, fraud amount, false declines and the cost difference, from evidence_pairs.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:30:00
"""

from collections.abc import Sequence

from alembic import op

from migrations.frozen_views import create_view

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_view(revision, "swap_sets")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS swap_sets")
