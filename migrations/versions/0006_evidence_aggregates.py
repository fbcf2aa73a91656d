"""The evidence aggregates: counts per model, day, decision, score bin and label state, and the
paired champion-challenger tallies, kept as data arrives (`arbiter evidence rebuild` fills them
for rows already stored); shadow_scores keep the champion's result they were paired with.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = {
    "evidence_decisions": [("model_id", sa.String(160)), ("day", sa.Date()), ("decision", sa.String(16)),
                           ("label", sa.String(8))],
    "evidence_bins": [("model_id", sa.String(160)), ("day", sa.Date()), ("bin", sa.Integer()),
                      ("label", sa.String(8))],
    "evidence_pairs": [("challenger_id", sa.String(160)), ("champion_id", sa.String(160)), ("day", sa.Date()),
                       ("challenger_decision", sa.String(16)), ("champion_decision", sa.String(16)),
                       ("label", sa.String(8))],
    "evidence_pair_bins": [("challenger_id", sa.String(160)), ("champion_id", sa.String(160)), ("day", sa.Date()),
                           ("side", sa.String(12)), ("bin", sa.Integer()), ("label", sa.String(8))],
}
AMOUNTS = [("amount", sa.Float()), ("without_amount", sa.Integer())]
SUMS = [(name, sa.Float()) for name in ("sum_x", "sum_y", "sum_xx", "sum_yy", "sum_xy")]
VALUES = {"evidence_decisions": AMOUNTS, "evidence_bins": [], "evidence_pairs": [*AMOUNTS, *SUMS],
          "evidence_pair_bins": []}


def upgrade() -> None:
    # the pair each challenger row counts; plain ADD/DROP COLUMN (no table copy: views read shadow_scores)
    op.add_column("shadow_scores", sa.Column("champion_id", sa.String(160), nullable=True))
    op.add_column("shadow_scores", sa.Column("champion_score", sa.Float(), nullable=True))
    op.add_column("shadow_scores", sa.Column("champion_decision", sa.String(16), nullable=True))
    for table, keys in KEYS.items():
        op.create_table(
            table,
            *(sa.Column(name, kind, nullable=False) for name, kind in keys),
            sa.Column("detector", sa.String(64), nullable=False),
            sa.Column("applications", sa.Integer(), nullable=False),
            *(sa.Column(name, kind, nullable=False) for name, kind in VALUES[table]),
            sa.PrimaryKeyConstraint(*(name for name, _ in keys), name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_detector_day"), table, ["detector", "day"], unique=False)
    lock = op.create_table(
        "evidence_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_evidence_lock_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_lock")),
    )
    op.bulk_insert(lock, [{"id": 1}])


def downgrade() -> None:
    op.drop_table("evidence_lock")
    for table in reversed(list(KEYS)):
        op.drop_index(op.f(f"ix_{table}_detector_day"), table_name=table)
        op.drop_table(table)
    for column in ("champion_decision", "champion_score", "champion_id"):
        op.execute(f"ALTER TABLE shadow_scores DROP COLUMN {column}")
