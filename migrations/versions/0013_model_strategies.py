"""model_strategies: each model's own versioned thresholds (its shadow decisions; the detector's
strategy once promoted), with how they were chosen; promotions record the detector's strategy
version before and after, so a rollback restores the (model, strategy) pair. Every model already
registered starts with its detector's current thresholds.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "model_strategies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.String(160), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("review_threshold", sa.Float(), nullable=False),
        sa.Column("decline_threshold", sa.Float(), nullable=False),
        sa.Column("basis", JSON_TYPE, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("review_threshold >= 0 AND review_threshold <= decline_threshold "
                           "AND decline_threshold <= 1", name=op.f("ck_model_strategies_model_thresholds")),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name=op.f("fk_model_strategies_model_id_models")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_strategies")),
    )
    op.create_index(op.f("ix_model_strategies_model_id_version"), "model_strategies", ["model_id", "version"],
                    unique=True)
    with op.batch_alter_table("promotions") as batch:
        batch.add_column(sa.Column("strategy_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("previous_strategy_version", sa.Integer(), nullable=True))
    op.execute("""
        INSERT INTO model_strategies (model_id, version, review_threshold, decline_threshold, basis, note,
                                      created_by, created_at)
        SELECT m.id, 1, s.review_threshold, s.decline_threshold,
               '{"method": "detector strategy", "why": "registered before models had strategies"}',
               'the detector''s strategy v' || s.version || ' when model strategies began', 'migration',
               CURRENT_TIMESTAMP
        FROM models m JOIN strategies s ON s.detector = m.detector
        WHERE s.version = (SELECT MAX(version) FROM strategies WHERE detector = m.detector)""")


def downgrade() -> None:
    with op.batch_alter_table("promotions") as batch:
        batch.drop_column("previous_strategy_version")
        batch.drop_column("strategy_version")
    op.drop_table("model_strategies")
