"""Four eyes: model reviews (models.review...), promotion requests decided by another principal
(promotions.status, decided_by/at, decision_comment, approval_gates) and proposals for strategies
and rules (the `proposals` table: nothing in it is served until approved).

Models already past registration when this revision runs were put to work before reviews existed:
they are marked approved by `before-governance`, visibly so; registered ones wait for a review.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # plain ADD/DROP COLUMN, no table copy: views read models
    op.add_column("models", sa.Column("review", sa.String(16), nullable=True))
    op.add_column("models", sa.Column("reviewed_by", sa.String(128), nullable=True))
    op.add_column("models", sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("models", sa.Column("review_comment", sa.Text(), nullable=True))
    op.execute("UPDATE models SET review = 'approved', reviewed_by = 'before-governance', "
               "reviewed_at = status_changed_at, review_comment = 'in use before model reviews existed' "
               "WHERE status <> 'registered'")
    with op.batch_alter_table("promotions") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("decision_comment", sa.Text(), nullable=True))
        batch.add_column(sa.Column("approval_gates", JSON_TYPE, nullable=True))
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detector", sa.String(64), nullable=False),
        sa.Column("model_id", sa.String(160), nullable=True),
        sa.Column("body", JSON_TYPE, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("proposed_by", sa.String(128), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('strategy', 'rules', 'model-strategy')", name=op.f("ck_proposals_kind")),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')",
                           name=op.f("ck_proposals_status")),
        sa.ForeignKeyConstraint(["detector"], ["detectors.name"], name=op.f("fk_proposals_detector_detectors")),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name=op.f("fk_proposals_model_id_models")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    op.create_index(op.f("ix_proposals_status"), "proposals", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_proposals_status"), table_name="proposals")
    op.drop_table("proposals")
    with op.batch_alter_table("promotions") as batch:
        for column in ("approval_gates", "decision_comment", "decided_at", "decided_by", "status"):
            batch.drop_column(column)
    for column in ("review_comment", "reviewed_at", "reviewed_by", "review"):
        op.execute(f"ALTER TABLE models DROP COLUMN {column}")
