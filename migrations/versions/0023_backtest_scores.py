"""backtest_scores: a registered model's scores of stored applications, computed afterwards by
`arbiter backtest` (resumable: one row per application and model), apart from the shadow scores.
The evidence counts them under the model id `<id>~backtest`, so every comparison shows them, marked.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "backtest_scores",
        sa.Column("application_id", sa.String(length=128), nullable=False),
        sa.Column("model_id", sa.String(length=160), nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("strategy_version", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("explanation", JSON_TYPE, nullable=True),
        sa.CheckConstraint("decision IN ('approve', 'review', 'decline')", name=op.f("ck_backtest_scores_decision")),
        sa.ForeignKeyConstraint(["detector"], ["detectors.name"], name=op.f("fk_backtest_scores_detector_detectors")),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name=op.f("fk_backtest_scores_model_id_models")),
        sa.PrimaryKeyConstraint("application_id", "model_id", name=op.f("pk_backtest_scores")),
    )
    op.create_index(op.f("ix_backtest_scores_model_id_received_at"), "backtest_scores", ["model_id", "received_at"])


def downgrade() -> None:
    op.drop_table("backtest_scores")
