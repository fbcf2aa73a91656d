"""evidence_bins gains amount and without_amount (per model, day, fine bin and label state: the sum
of the known amounts and how many had none), so a threshold simulation reads frauds' amounts at any
pair of thresholds from the bins. Rows counted before this revision read 0 until `arbiter evidence
rebuild` recounts their days.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a constant default: no table rewrite on Postgres 11+, and SQLite adds it in place
    op.add_column("evidence_bins", sa.Column("amount", sa.Float(), nullable=False, server_default="0"))
    op.add_column("evidence_bins", sa.Column("without_amount", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+ too): a batch copy would break the views that read the table
    for column in ("without_amount", "amount"):
        op.execute(f"ALTER TABLE evidence_bins DROP COLUMN {column}")
