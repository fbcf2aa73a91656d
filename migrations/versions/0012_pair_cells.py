"""evidence_pair_cells: each champion-challenger pair's applications per day and label state on a
grid of both scores, the joint counts the promotion gate's DeLong interval takes its covariance
from. An existing database's pairs are not in it until `arbiter evidence rebuild` recounts them;
until then the gate refuses with "evidence incomplete" rather than guess.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_pair_cells",
        sa.Column("challenger_id", sa.String(160), nullable=False),
        sa.Column("champion_id", sa.String(160), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("challenger_cell", sa.Integer(), nullable=False),
        sa.Column("champion_cell", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(8), nullable=False),
        sa.Column("detector", sa.String(64), nullable=False),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("challenger_id", "champion_id", "day", "challenger_cell", "champion_cell", "label",
                                name=op.f("pk_evidence_pair_cells")),
    )
    op.create_index(op.f("ix_evidence_pair_cells_detector_day"), "evidence_pair_cells", ["detector", "day"])


def downgrade() -> None:
    op.drop_table("evidence_pair_cells")
