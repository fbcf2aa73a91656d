"""Initial tables: the nine tables of CONTRACT.md.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 19:34:22.334957
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here rather than imported: a migration must not change when the models do.
JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "detectors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("input_schema", JSON_TYPE, nullable=False),
        sa.Column("schema_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_detectors")),
    )
    op.create_table(
        "outcomes",
        sa.Column("application_id", sa.String(length=128), nullable=False),
        sa.Column("is_fraud", sa.Boolean(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_outcomes")),
    )
    op.create_table(
        "applications",
        sa.Column("application_id", sa.String(length=128), nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", JSON_TYPE, nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["detector"], ["detectors.name"], name=op.f("fk_applications_detector_detectors")
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_applications")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_applications_detector_received_at"), ["detector", "received_at"], unique=False
        )

    op.create_table(
        "models",
        sa.Column("id", sa.String(length=160), nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("flavour", sa.String(length=32), nullable=False),
        sa.Column("recipe", sa.String(length=32), nullable=False),
        sa.Column("runtime", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("metrics", JSON_TYPE, nullable=False),
        sa.Column("certification", JSON_TYPE, nullable=False),
        sa.Column("manifest", JSON_TYPE, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(length=128), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('registered', 'shadow', 'champion', 'retired')", name=op.f("ck_models_status")
        ),
        sa.ForeignKeyConstraint(["detector"], ["detectors.name"], name=op.f("fk_models_detector_detectors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
        sa.UniqueConstraint("sha256", name=op.f("uq_models_sha256")),
    )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_models_detector_status"), ["detector", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_models_name_version"), ["name", "version"], unique=True)

    op.create_table(
        "rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", JSON_TYPE, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["detector"], ["detectors.name"], name=op.f("fk_rules_detector_detectors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rules")),
    )
    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rules_detector_version"), ["detector", "version"], unique=True)

    op.create_table(
        "strategies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("review_threshold", sa.Float(), nullable=False),
        sa.Column("decline_threshold", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "review_threshold >= 0 AND review_threshold <= decline_threshold AND decline_threshold <= 1",
            name=op.f("ck_strategies_thresholds"),
        ),
        sa.ForeignKeyConstraint(
            ["detector"], ["detectors.name"], name=op.f("fk_strategies_detector_detectors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategies")),
    )
    with op.batch_alter_table("strategies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_strategies_detector_version"), ["detector", "version"], unique=True
        )

    op.create_table(
        "decisions",
        sa.Column("application_id", sa.String(length=128), nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=160), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reasons", JSON_TYPE, nullable=False),
        sa.Column("strategy_version", sa.Integer(), nullable=True),
        sa.Column("rules_version", sa.Integer(), nullable=True),
        sa.Column("elapsed_ms", sa.Float(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('approve', 'review', 'decline')", name=op.f("ck_decisions_decision")
        ),
        sa.ForeignKeyConstraint(
            ["detector"], ["detectors.name"], name=op.f("fk_decisions_detector_detectors")
        ),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name=op.f("fk_decisions_model_id_models")),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_decisions_detector_decided_at"), ["detector", "decided_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_decisions_model_id_decided_at"), ["model_id", "decided_at"], unique=False
        )

    op.create_table(
        "promotions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("model_id", sa.String(length=160), nullable=True),
        sa.Column("previous_model_id", sa.String(length=160), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("gates", JSON_TYPE, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action IN ('promote', 'rollback')", name=op.f("ck_promotions_action")),
        sa.ForeignKeyConstraint(
            ["detector"], ["detectors.name"], name=op.f("fk_promotions_detector_detectors")
        ),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name=op.f("fk_promotions_model_id_models")),
        sa.ForeignKeyConstraint(
            ["previous_model_id"], ["models.id"], name=op.f("fk_promotions_previous_model_id_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions")),
    )
    with op.batch_alter_table("promotions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promotions_detector"), ["detector"], unique=False)

    op.create_table(
        "shadow_scores",
        sa.Column("application_id", sa.String(length=128), nullable=False),
        sa.Column("model_id", sa.String(length=160), nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("strategy_version", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('approve', 'review', 'decline')", name=op.f("ck_shadow_scores_decision")
        ),
        sa.ForeignKeyConstraint(
            ["detector"], ["detectors.name"], name=op.f("fk_shadow_scores_detector_detectors")
        ),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], name=op.f("fk_shadow_scores_model_id_models")),
        sa.PrimaryKeyConstraint("application_id", "model_id", name=op.f("pk_shadow_scores")),
    )
    with op.batch_alter_table("shadow_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shadow_scores_detector_scored_at"), ["detector", "scored_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shadow_scores_model_id_scored_at"), ["model_id", "scored_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("shadow_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shadow_scores_model_id_scored_at"))
        batch_op.drop_index(batch_op.f("ix_shadow_scores_detector_scored_at"))

    op.drop_table("shadow_scores")
    with op.batch_alter_table("promotions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotions_detector"))

    op.drop_table("promotions")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_model_id_decided_at"))
        batch_op.drop_index(batch_op.f("ix_decisions_detector_decided_at"))

    op.drop_table("decisions")
    with op.batch_alter_table("strategies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_strategies_detector_version"))

    op.drop_table("strategies")
    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rules_detector_version"))

    op.drop_table("rules")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_models_name_version"))
        batch_op.drop_index(batch_op.f("ix_models_detector_status"))

    op.drop_table("models")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_detector_received_at"))

    op.drop_table("applications")
    op.drop_table("outcomes")
    op.drop_table("detectors")
