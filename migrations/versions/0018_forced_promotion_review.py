"""promotions.reviewed_by / reviewed_at / review_comment: a forced promotion (break-glass) stays
flagged until a principal other than the one who forced it reviews it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("promotions") as batch:
        batch.add_column(sa.Column("reviewed_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("review_comment", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("promotions") as batch:
        batch.drop_column("review_comment")
        batch.drop_column("reviewed_at")
        batch.drop_column("reviewed_by")
