"""The tables of CONTRACT.md (SQLAlchemy 2.0, typed). Created only by `migrations/`.

No column holds PII in clear: application payloads are stored with PII fields replaced by
keyed hashes (see `arbiter.domain.pii`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JsonType = JSON().with_variant(JSONB(), "postgresql")
NullableJson = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")  # None: SQL NULL
MODEL_STATUSES = ("registered", "shadow", "champion", "retired")
DECISIONS = ("approve", "review", "decline")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })
    type_annotation_map = {dict[str, Any]: JsonType, list[Any]: JsonType, datetime: DateTime(timezone=True)}


class Detector(Base):
    __tablename__ = "detectors"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    input_schema: Mapped[dict[str, Any]]
    schema_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Model(Base):
    __tablename__ = "models"
    __table_args__ = (
        CheckConstraint(f"status IN {MODEL_STATUSES}", name="status"),
        Index(None, "name", "version", unique=True),
        Index(None, "detector", "status"),
    )
    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    detector: Mapped[str] = mapped_column(ForeignKey("detectors.name"))
    name: Mapped[str] = mapped_column(String(120))
    version: Mapped[int]
    flavour: Mapped[str] = mapped_column(String(32))
    recipe: Mapped[str] = mapped_column(String(32))
    runtime: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="registered")
    location: Mapped[str] = mapped_column(Text, doc="bundle path relative to ARBITER_REGISTRY_DIR")
    metrics: Mapped[dict[str, Any]]
    certification: Mapped[dict[str, Any]]
    manifest: Mapped[dict[str, Any]]
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    registered_by: Mapped[str] = mapped_column(String(128), default="cli")
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    shadow_started_at: Mapped[datetime | None] = mapped_column(doc="start of the current or last shadow window")
    shadow_stopped_at: Mapped[datetime | None] = mapped_column(doc="end of the last shadow window")
    review: Mapped[str | None] = mapped_column(String(16), doc="'approved' or 'rejected' by governance; NULL: "
                                                                "awaiting review")
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)


class Promotion(Base):
    """The audit trail: every promotion or rollback attempt, accepted or refused."""

    __tablename__ = "promotions"
    __table_args__ = (CheckConstraint("action IN ('promote', 'rollback')", name="action"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    detector: Mapped[str] = mapped_column(ForeignKey("detectors.name"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    model_id: Mapped[str | None] = mapped_column(ForeignKey("models.id"))
    previous_model_id: Mapped[str | None] = mapped_column(ForeignKey("models.id"))
    accepted: Mapped[bool]
    forced: Mapped[bool] = mapped_column(default=False)
    gates: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    strategy_version: Mapped[int | None] = mapped_column(Integer, doc="the detector's strategy after it")
    previous_strategy_version: Mapped[int | None] = mapped_column(Integer, doc="the detector's strategy before it")
    reviewed_by: Mapped[str | None] = mapped_column(String(128), doc="a forced promotion: who reviewed it after")
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(16), doc="a request (four eyes): pending, approved, "
                                                                "rejected, withdrawn or refused (gates failed at "
                                                                "approval); NULL: decided when made")
    decided_by: Mapped[str | None] = mapped_column(String(128), doc="a request: who approved, rejected or withdrew it")
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(Text)
    approval_gates: Mapped[dict[str, Any] | None] = mapped_column(doc="a request: the gates as re-run at approval")


class Proposal(Base):
    """A change to a detector's strategy or rules, or to a model's strategy, waiting for (or decided
    by) a principal other than its proposer; only an approved one becomes a served version."""

    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint("kind IN ('strategy', 'rules', 'model-strategy')", name="kind"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')", name="status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    detector: Mapped[str] = mapped_column(ForeignKey("detectors.name"))
    model_id: Mapped[str | None] = mapped_column(ForeignKey("models.id"))
    body: Mapped[dict[str, Any]] = mapped_column(doc="the change as it will be stored (identities as keyed hashes)")
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    proposed_by: Mapped[str] = mapped_column(String(128))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int | None] = mapped_column(Integer, doc="the version its approval created")


class PrincipalRow(Base):
    """Someone (or something) that acts on Arbiter, with its roles; the token only as a hash."""

    __tablename__ = "principals"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    roles: Mapped[list[Any]]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(128))


class AuditEvent(Base):
    """The audit trail: every governance event, appended in order and hash-chained
    (`arbiter.domain.audit`); the database refuses to update or delete a row (revision 0016)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, doc="its place in the chain")
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ModelStrategy(Base):
    """A model's own versioned thresholds: the decisions it would make in shadow mode, and the
    detector's strategy once it is promoted. `basis` says how they were chosen."""

    __tablename__ = "model_strategies"
    __table_args__ = (
        Index(None, "model_id", "version", unique=True),
        CheckConstraint("review_threshold >= 0 AND review_threshold <= decline_threshold "
                        "AND decline_threshold <= 1", name="model_thresholds"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"))
    version: Mapped[int]
    review_threshold: Mapped[float] = mapped_column(Float)
    decline_threshold: Mapped[float] = mapped_column(Float)
    basis: Mapped[dict[str, Any]]
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(128), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Strategy(Base):
    """Versioned thresholds: score < review -> approve; < decline -> review; else decline."""

    __tablename__ = "strategies"
    __table_args__ = (
        Index(None, "detector", "version", unique=True),
        CheckConstraint("review_threshold >= 0 AND review_threshold <= decline_threshold "
                        "AND decline_threshold <= 1", name="thresholds"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    detector: Mapped[str] = mapped_column(ForeignKey("detectors.name"))
    version: Mapped[int]
    review_threshold: Mapped[float] = mapped_column(Float)
    decline_threshold: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(128), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RuleSet(Base):
    """Versioned deny lists and checks; identity values are held as keyed hashes."""

    __tablename__ = "rules"
    __table_args__ = (Index(None, "detector", "version", unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    detector: Mapped[str] = mapped_column(ForeignKey("detectors.name"))
    version: Mapped[int]
    body: Mapped[dict[str, Any]]
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(128), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (Index(None, "detector", "received_at"),)
    application_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    detector: Mapped[str] = mapped_column(ForeignKey("detectors.name"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(doc="the input, PII fields as keyed hashes")
    amount: Mapped[float | None] = mapped_column(Float)
    schema_version: Mapped[int] = mapped_column(default=1)
    segments: Mapped[dict[str, Any] | None] = mapped_column(
        doc="its segments, derived when recorded (models.segments): age band and region, never the "
            "date of birth or address they come from; channel, amount band")
    derived: Mapped[dict[str, Any] | None] = mapped_column(
        NullableJson, doc="what a backtest needs of its PII, derived when recorded (arbiter.domain.derivations): "
                          "distances, age in whole years, identity digests, keyed hashes of domain and network")


class Decision(Base):
    """The champion's decision; the first one recorded for an application stands."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(f"decision IN {DECISIONS}", name="decision"),
        Index(None, "detector", "decided_at"),
        Index(None, "model_id", "decided_at"),
    )
    application_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    detector: Mapped[str] = mapped_column(ForeignKey("detectors.name"))
    model_id: Mapped[str | None] = mapped_column(ForeignKey("models.id"))
    score: Mapped[float | None] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]]
    strategy_version: Mapped[int | None]
    rules_version: Mapped[int | None]
    elapsed_ms: Mapped[float | None] = mapped_column(Float)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow, primary_key=True,
                                                 doc="when the application arrived (the partition key)")
    explanation: Mapped[list[Any] | None] = mapped_column(
        NullableJson, doc="[feature, contribution] pairs, strongest first (models/explain.py); NULL for a rule's "
                          "decision")


class ShadowScore(Base):
    """A challenger's score and the decision the strategy would have made; one per (application, model)."""

    __tablename__ = "shadow_scores"
    __table_args__ = (
        CheckConstraint(f"decision IN {DECISIONS}", name="decision"),
        Index(None, "model_id", "scored_at"),
        Index(None, "detector", "received_at"),
    )
    application_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"), primary_key=True)
    detector: Mapped[str] = mapped_column(ForeignKey("detectors.name"))
    score: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(16))
    strategy_version: Mapped[int | None]
    published_at: Mapped[datetime | None]
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime] = mapped_column(primary_key=True, doc="when the application arrived (from the "
                                                  "message; the partition key)")
    # the champion's result on the same application, from the message (NULL: decided by a rule, or
    # stored before revision 0006): the pair the evidence counts, owned by this row alone
    champion_id: Mapped[str | None] = mapped_column(String(160))
    champion_score: Mapped[float | None] = mapped_column(Float)
    champion_decision: Mapped[str | None] = mapped_column(String(16))
    explanation: Mapped[list[Any] | None] = mapped_column(NullableJson, doc="[feature, contribution] pairs, "
                                                                             "strongest first")


class BacktestScore(Base):
    """A registered model's score of a stored application, computed afterwards by `arbiter backtest`
    (apart from the shadow scores); the evidence counts it as model `<id>~backtest`."""

    __tablename__ = "backtest_scores"
    __table_args__ = (
        CheckConstraint(f"decision IN {DECISIONS}", name="decision"),
        Index(None, "model_id", "received_at"),
    )
    application_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"), primary_key=True)
    detector: Mapped[str] = mapped_column(ForeignKey("detectors.name"))
    score: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(16))
    strategy_version: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(doc="when the application arrived")
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)
    explanation: Mapped[list[Any] | None] = mapped_column(NullableJson, doc="[feature, contribution] pairs")


class Outcome(Base):
    """A confirmed label, arriving weeks later; a later label replaces an earlier one."""

    __tablename__ = "outcomes"
    application_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    is_fraud: Mapped[bool]
    observed_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    revision: Mapped[int] = mapped_column(default=1)
    source: Mapped[str] = mapped_column(String(64), default="api")


metadata = Base.metadata


class OutcomeHistory(Base):
    """Every label version ever recorded for an application: replaced labels stay on record."""

    __tablename__ = "outcome_history"
    application_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    revision: Mapped[int] = mapped_column(primary_key=True)
    is_fraud: Mapped[bool]
    observed_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(64))


class ViewSettings(Base):
    """One row: what the strategists' views use (label maturity, costs); change it with SQL."""

    __tablename__ = "view_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label_maturity_days: Mapped[float] = mapped_column(Float)
    missed_fraud_cost: Mapped[float] = mapped_column(Float)
    false_decline_cost: Mapped[float] = mapped_column(Float)


class DeadLetter(Base):
    """A message a consumer gave up on, and why; the message itself is on the `arbiter.dead` queue."""

    __tablename__ = "dead_letters"
    queue: Mapped[str] = mapped_column(String(200), primary_key=True)
    message_key: Mapped[str] = mapped_column(String(128), primary_key=True,
                                             doc="the application_id, or a digest of a body that has none")
    model_id: Mapped[str | None] = mapped_column(String(160), index=True)
    detector: Mapped[str | None] = mapped_column(String(64))
    application_id: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int]
    dead_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelReferenceBin(Base):
    """One bin of a model's reference distribution (its manifest's `drift_reference`): what the
    `model_drift` view compares production with. Written at registration."""

    __tablename__ = "model_reference_bins"
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True, doc="'score' or 'feature'")
    variable: Mapped[str] = mapped_column(String(64), primary_key=True)
    bin: Mapped[int] = mapped_column(Integer, primary_key=True)
    lower_edge: Mapped[float | None] = mapped_column(Float, doc="inclusive; NULL: open below")
    upper_edge: Mapped[float | None] = mapped_column(Float, doc="exclusive; NULL: open above")
    expected_share: Mapped[float] = mapped_column(Float)


# The evidence aggregates: kept in the same transaction as the rows they count (the recorder, the
# challenger workers, the outcomes path), rebuilt from the raw tables by `arbiter evidence rebuild`.
# `day` is the UTC day the application arrived; `label` is 'fraud', 'legit' or 'none' (not yet).


class EvidenceDecision(Base):
    """Per model, day, decision and label state: how many applications, and their amounts."""

    __tablename__ = "evidence_decisions"
    __table_args__ = (Index(None, "detector", "day"),)
    model_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    decision: Mapped[str] = mapped_column(String(16), primary_key=True)
    label: Mapped[str] = mapped_column(String(8), primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    applications: Mapped[int] = mapped_column(Integer)
    amount: Mapped[float] = mapped_column(Float, doc="sum of the known amounts")
    without_amount: Mapped[int] = mapped_column(Integer, doc="applications with no amount")


class EvidenceBin(Base):
    """Per model, day, fine score bin (`arbiter.domain.evidence`) and label state: applications and
    their amounts (what a threshold simulation counts frauds' amounts from)."""

    __tablename__ = "evidence_bins"
    __table_args__ = (Index(None, "detector", "day"),)
    model_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bin: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(8), primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    applications: Mapped[int] = mapped_column(Integer)
    amount: Mapped[float] = mapped_column(Float, default=0.0, doc="sum of the known amounts")
    without_amount: Mapped[int] = mapped_column(Integer, default=0, doc="applications with no amount")


class EvidencePair(Base):
    """Per challenger, the champion that decided the same applications, day, both decisions and label
    state: applications, amounts and the sums for the correlation of their scores."""

    __tablename__ = "evidence_pairs"
    __table_args__ = (Index(None, "detector", "day"),)
    challenger_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    champion_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    challenger_decision: Mapped[str] = mapped_column(String(16), primary_key=True)
    champion_decision: Mapped[str] = mapped_column(String(16), primary_key=True)
    label: Mapped[str] = mapped_column(String(8), primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    applications: Mapped[int] = mapped_column(Integer)
    amount: Mapped[float] = mapped_column(Float)
    without_amount: Mapped[int] = mapped_column(Integer)
    sum_x: Mapped[float] = mapped_column(Float, doc="challenger scores")
    sum_y: Mapped[float] = mapped_column(Float, doc="champion scores")
    sum_xx: Mapped[float] = mapped_column(Float)
    sum_yy: Mapped[float] = mapped_column(Float)
    sum_xy: Mapped[float] = mapped_column(Float)


class EvidencePairBin(Base):
    """Per pair and day, each side's fine score bins by label state, on the paired applications only
    (so both AUCs are taken on the same applications)."""

    __tablename__ = "evidence_pair_bins"
    __table_args__ = (Index(None, "detector", "day"),)
    challenger_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    champion_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    side: Mapped[str] = mapped_column(String(12), primary_key=True, doc="'challenger' or 'champion'")
    bin: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(8), primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    applications: Mapped[int] = mapped_column(Integer)


class EvidencePairCell(Base):
    """Per pair and day, the paired applications by label state on a grid of both scores (cells of
    `CELL_BINS` fine bins each side): the joint counts the DeLong interval of the AUC difference
    takes its covariance from."""

    __tablename__ = "evidence_pair_cells"
    __table_args__ = (Index(None, "detector", "day"),)
    challenger_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    champion_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    challenger_cell: Mapped[int] = mapped_column(Integer, primary_key=True)
    champion_cell: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(8), primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    applications: Mapped[int] = mapped_column(Integer)


class EvidenceSegment(Base):
    """Per model, day and segment of its applications (`models.segments`: age band,
    region, channel, amount band), decisions by label state: fairness and segment performance."""

    __tablename__ = "evidence_segments"
    __table_args__ = (Index(None, "detector", "day"),)
    model_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    segment: Mapped[str] = mapped_column(String(32), primary_key=True)
    decision: Mapped[str] = mapped_column(String(16), primary_key=True)
    label: Mapped[str] = mapped_column(String(8), primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    applications: Mapped[int] = mapped_column(Integer)
    amount: Mapped[float] = mapped_column(Float)


class EvidenceReason(Base):
    """Per model, day and decision: how many decisions named each input among their explanation's
    reasons, how many named it first, and the sum of its contributions: the top reasons per model and day."""

    __tablename__ = "evidence_reasons"
    __table_args__ = (Index(None, "detector", "day"),)
    model_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    decision: Mapped[str] = mapped_column(String(16), primary_key=True)
    feature: Mapped[str] = mapped_column(String(64), primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    applications: Mapped[int] = mapped_column(Integer)
    first: Mapped[int] = mapped_column(Integer)
    contribution: Mapped[float] = mapped_column(Float)


class EvidencePairReason(Base):
    """Per challenger, champion and day, on the applications they decided differently: how often each
    input was among each side's reasons (`side`), and the sum of its contributions: where two models
    disagree and why."""

    __tablename__ = "evidence_pair_reasons"
    __table_args__ = (Index(None, "detector", "day"),)
    challenger_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    champion_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    challenger_decision: Mapped[str] = mapped_column(String(16), primary_key=True)
    champion_decision: Mapped[str] = mapped_column(String(16), primary_key=True)
    side: Mapped[str] = mapped_column(String(16), primary_key=True)
    feature: Mapped[str] = mapped_column(String(64), primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    applications: Mapped[int] = mapped_column(Integer)
    contribution: Mapped[float] = mapped_column(Float)


class EvidenceArrival(Base):
    """Per detector and UTC hour: the applications stored (`shadow_coverage`'s published count)."""

    __tablename__ = "evidence_arrivals"
    detector: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    applications: Mapped[int] = mapped_column(Integer)


class EvidenceShadowHour(Base):
    """Per challenger and UTC hour of arrival: the shadow scores stored, the latest arrival among them
    and the latest scoring (`shadow_coverage`'s scored count, lag and last_scored_at)."""

    __tablename__ = "evidence_shadow_hours"
    __table_args__ = (Index(None, "detector", "day"),)
    model_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    scored: Mapped[int] = mapped_column(Integer)
    last_received_at: Mapped[datetime]
    last_scored_at: Mapped[datetime]


class EvidenceDrift(Base):
    """Per model, day and watched variable (`model_reference_bins`): applications in each reference
    bin (bin -1: without a value), what `model_drift` computes the PSI from."""

    __tablename__ = "evidence_drift"
    __table_args__ = (Index(None, "detector", "day"),)
    model_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    variable: Mapped[str] = mapped_column(String(64), primary_key=True)
    bin: Mapped[int] = mapped_column(Integer, primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    applications: Mapped[int] = mapped_column(Integer)


class EvidenceDaily(Base):
    """Per model and day, what model_daily_performance reads off the fine bins (the fine bins of the
    score quantiles, the AUC's sums), as of the last refresh (`evidence_repo.refresh_daily`); the
    days changed since are in evidence_dirty_days and the view computes them anew."""

    __tablename__ = "evidence_daily"
    __table_args__ = (Index(None, "detector", "day"),)
    model_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    bin_p50: Mapped[int | None] = mapped_column(Integer)
    bin_p90: Mapped[int | None] = mapped_column(Integer)
    bin_p99: Mapped[int | None] = mapped_column(Integer)
    positives: Mapped[int] = mapped_column(BigInteger)
    negatives: Mapped[int] = mapped_column(BigInteger)
    correct: Mapped[float] = mapped_column(Float)
    tied: Mapped[float] = mapped_column(Float)


class EvidenceDirtyDay(Base):
    """A model's day whose fine bins changed since evidence_daily kept it: every writer of
    evidence_bins bumps `generation`, and a refresh clears only the generation it computed."""

    __tablename__ = "evidence_dirty_days"
    model_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    detector: Mapped[str] = mapped_column(String(64))
    generation: Mapped[int] = mapped_column(BigInteger)


class EvidenceBinEdge(Base):
    """The fine score bins the aggregates count in (`arbiter.domain.evidence`), for SQL: the views
    sum them into the twenty 0.05-wide bins and read score quantiles and ROC thresholds off them.
    Written by `arbiter db upgrade` from the code that bins the scores."""

    __tablename__ = "evidence_bin_edges"
    bin: Mapped[int] = mapped_column(Integer, primary_key=True)
    low: Mapped[float] = mapped_column(Float, doc="inclusive")
    high: Mapped[float | None] = mapped_column(Float, doc="exclusive; NULL: the bin of a score of 1")
    coarse: Mapped[int] = mapped_column(Integer, doc="the 0.05-wide bin (0-19) it lies in")


class EvidenceLock(Base):
    """One row that SQLite writers of evidence update first, so that they hold the write lock before
    they read what they count (Postgres uses advisory locks per application instead)."""

    __tablename__ = "evidence_lock"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
