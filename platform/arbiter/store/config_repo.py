"""Versioned strategies and rule sets: the current version, and new versions (never edits)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arbiter.domain.pii import PiiHasher
from arbiter.domain.rules import RuleSetInput, to_stored
from arbiter.domain.strategies import DEFAULT_DECLINE, DEFAULT_REVIEW, Strategy
from arbiter.store import evidence_repo, tables
from models.detectors import DETECTORS, get_detector

Versioned = type[tables.Strategy] | type[tables.RuleSet]


def _latest(session: Session, table: Versioned, detector: str):  # type: ignore[no-untyped-def]
    query = select(table).where(table.detector == detector).order_by(table.version.desc()).limit(1)
    return session.scalars(query).first()


def _next_version(session: Session, table: Versioned, detector: str) -> int:
    return (session.scalar(select(func.max(table.version)).where(table.detector == detector)) or 0) + 1


def current_strategy(session: Session, detector: str) -> tables.Strategy | None:
    return _latest(session, tables.Strategy, detector)


def strategy_version(session: Session, detector: str, version: int) -> tables.Strategy | None:
    s = tables.Strategy
    return session.scalars(select(s).where(s.detector == detector, s.version == version)).first()


def as_strategy(row: tables.Strategy) -> Strategy:
    return Strategy(row.detector, row.version, row.review_threshold, row.decline_threshold)


def strategy_in_force(session: Session, detector: str) -> Strategy:
    """The detector's current strategy, or the defaults (version 0) when none is stored."""
    row = current_strategy(session, detector)
    return as_strategy(row) if row else Strategy(detector, 0, DEFAULT_REVIEW, DEFAULT_DECLINE)


def add_strategy(session: Session, detector: str, review: float, decline: float, *, note: str = "",
                 actor: str = "system") -> tables.Strategy:
    row = tables.Strategy(detector=detector, version=_next_version(session, tables.Strategy, detector),
                          review_threshold=review, decline_threshold=decline, note=note, created_by=actor)
    session.add(row)
    session.flush()
    return row


def model_strategy(session: Session, model_id: str) -> tables.ModelStrategy | None:
    """`model_id`'s latest thresholds (None: it has none on record)."""
    m = tables.ModelStrategy
    return session.scalars(select(m).where(m.model_id == model_id).order_by(m.version.desc()).limit(1)).first()


def add_model_strategy(session: Session, model_id: str, review: float, decline: float, *, basis: dict[str, Any],
                       note: str = "", actor: str = "system") -> tables.ModelStrategy:
    m = tables.ModelStrategy
    version = (session.scalar(select(func.max(m.version)).where(m.model_id == model_id)) or 0) + 1
    row = m(model_id=model_id, version=version, review_threshold=review, decline_threshold=decline, basis=basis,
            note=note, created_by=actor)
    session.add(row)
    session.flush()
    return row


def model_strategy_in_force(session: Session, model: tables.Model) -> Strategy:
    """The thresholds `model` decides with in shadow mode: its own, or its detector's when it has none."""
    row = model_strategy(session, model.id)
    if row is None:
        return strategy_in_force(session, model.detector)
    return Strategy(model.detector, row.version, row.review_threshold, row.decline_threshold)


def current_rules(session: Session, detector: str) -> tables.RuleSet | None:
    return _latest(session, tables.RuleSet, detector)


def add_rules(session: Session, detector: str, body: dict[str, Any], *, note: str = "",
              actor: str = "system") -> tables.RuleSet:
    row = tables.RuleSet(detector=detector, version=_next_version(session, tables.RuleSet, detector), body=body,
                         note=note, created_by=actor)
    session.add(row)
    session.flush()
    return row


VIEW_DEFAULTS = {"label_maturity_days": 30.0, "missed_fraud_cost": 1000.0, "false_decline_cost": 25.0}


def seed_defaults(session: Session, hasher: PiiHasher) -> None:
    """Strategy v1 and an empty rule set v1 for every detector that has none yet (never the
    synthetic lists: they would decline real applicants); the views' settings row, the evidence
    lock row and the score bins."""
    if session.get(tables.ViewSettings, 1) is None:
        session.add(tables.ViewSettings(id=1, **VIEW_DEFAULTS))
    if session.get(tables.EvidenceLock, 1) is None:
        session.add(tables.EvidenceLock(id=1))
    evidence_repo.seed_bin_edges(session)
    for name in DETECTORS:
        if current_strategy(session, name) is None:
            add_strategy(session, name, DEFAULT_REVIEW, DEFAULT_DECLINE, note="default")
        if current_rules(session, name) is None:  # no deny list: a fresh installation declines nobody on one
            add_rules(session, name, to_stored(get_detector(name), RuleSetInput(rules=[]), hasher),
                      note="empty: a fresh installation has no deny lists; load yours (PUT .../rules)")
