"""decisions.explanation and shadow_scores.explanation: the inputs that pushed each model decision's
score up most, as [feature, contribution] pairs (the texts follow from the features), for the
champion's decisions and each challenger's shadow scores. NULL for a rule's decision, a row stored
before this revision, or a model without a contribution graph.

Plain ADD COLUMN (nullable, no default): no table copy on either database, and on Postgres the
partitions of both tables get it from their parent.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    for table in ("decisions", "shadow_scores"):
        op.add_column(table, sa.Column("explanation", JSON_TYPE, nullable=True))


def downgrade() -> None:
    for table in ("decisions", "shadow_scores"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN explanation")
