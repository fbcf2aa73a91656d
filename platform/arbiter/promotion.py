"""Promotion and rollback of champions, behind governance gates, every attempt on record.

Gates for promoting model M on detector D:
- registered: M exists, belongs to D, is not already the champion;
- certified: M passed certification within the configured tolerance;
- shadow_volume: M has shadow scores on at least `min_shadow` applications;
- auc_vs_champion: where applications scored by both M (shadow) and the champion (decisions)
  carry labels, M's ROC-AUC is not below the champion's by more than `auc_tolerance`.
`force` (with a reason) overrides failed gates; the refusal or the override is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from arbiter.store import tables


@dataclass(frozen=True)
class PromotionPolicy:
    min_shadow: int = 1000
    auc_tolerance: float = 0.01
    certification_tolerance: float = 1e-5


@dataclass(frozen=True)
class PromotionResult:
    accepted: bool
    record: tables.Promotion

    def as_dict(self) -> dict[str, Any]:
        return promotion_dict(self.record)


class PromotionError(Exception):
    """A request that names nothing promotable (unknown model or detector); status 404 or 409."""

    def __init__(self, message: str, status: int = 404) -> None:
        super().__init__(message)
        self.status = status


def promotion_dict(p: tables.Promotion) -> dict[str, Any]:
    return {"id": p.id, "detector": p.detector, "action": p.action, "model_id": p.model_id,
            "previous_model_id": p.previous_model_id, "accepted": p.accepted, "forced": p.forced,
            "gates": p.gates, "actor": p.actor, "reason": p.reason, "created_at": p.created_at.isoformat()}


def current_champion(session: Session, detector: str) -> tables.Model | None:
    return session.scalars(select(tables.Model).where(tables.Model.detector == detector,
                                                      tables.Model.status == "champion")).first()


def _lock_detector(session: Session, detector: str) -> None:
    """Serialise promotions of one detector (row lock on Postgres; SQLite serialises writers)."""
    query = select(tables.Detector).where(tables.Detector.name == detector)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    if session.scalars(query).first() is None:
        raise PromotionError(f"unknown detector {detector!r}")


def paired_auc(session: Session, challenger: str, champion: str) -> dict[str, Any]:
    """ROC-AUC of challenger and champion on the same labelled applications."""
    rows = session.execute(
        select(tables.ShadowScore.score, tables.Decision.score, tables.Outcome.is_fraud)
        .join(tables.Decision, tables.Decision.application_id == tables.ShadowScore.application_id)
        .join(tables.Outcome, tables.Outcome.application_id == tables.ShadowScore.application_id)
        .where(tables.ShadowScore.model_id == challenger, tables.Decision.model_id == champion,
               tables.Decision.score.is_not(None))
    ).all()
    labels = np.array([r[2] for r in rows], dtype=int)
    if len(rows) == 0 or len(set(labels.tolist())) < 2:
        return {"labelled": len(rows), "challenger_auc": None, "champion_auc": None}
    return {"labelled": len(rows),
            "challenger_auc": float(roc_auc_score(labels, [r[0] for r in rows])),
            "champion_auc": float(roc_auc_score(labels, [r[1] for r in rows]))}


def evaluate_gates(session: Session, model: tables.Model | None, detector: str, champion: tables.Model | None,
                   policy: PromotionPolicy) -> dict[str, dict[str, Any]]:
    gates: dict[str, dict[str, Any]] = {}
    ok = model is not None and model.detector == detector and model.status != "champion"
    gates["registered"] = {"passed": ok, "detail": (
        "not found" if model is None else f"belongs to {model.detector}" if model.detector != detector
        else "already the champion" if model.status == "champion" else f"status {model.status}")}
    if model is None:
        return gates
    cert = model.certification or {}
    diff = cert.get("max_abs_diff")
    gates["certified"] = {"passed": bool(cert.get("passed")) and diff is not None
                          and diff <= policy.certification_tolerance,
                          "max_abs_diff": diff, "tolerance": policy.certification_tolerance}
    shadowed = session.scalar(select(func.count()).select_from(tables.ShadowScore)
                              .where(tables.ShadowScore.model_id == model.id)) or 0
    gates["shadow_volume"] = {"passed": shadowed >= policy.min_shadow, "shadow_scores": shadowed,
                              "required": policy.min_shadow}
    if champion is None:
        gates["auc_vs_champion"] = {"passed": True, "detail": "no current champion"}
    else:
        paired = paired_auc(session, model.id, champion.id)
        if paired["challenger_auc"] is None:
            gates["auc_vs_champion"] = {"passed": True, "detail": "no labelled applications scored by both",
                                        **paired}
        else:
            delta = paired["challenger_auc"] - paired["champion_auc"]
            gates["auc_vs_champion"] = {"passed": delta >= -policy.auc_tolerance, "delta": delta,
                                        "tolerance": policy.auc_tolerance, **paired}
    return gates


def promote(session: Session, detector: str, model_id: str, *, reason: str, actor: str, force: bool = False,
            policy: PromotionPolicy = PromotionPolicy()) -> PromotionResult:
    """Run the gates, record the attempt, and make `model_id` champion if they pass (or `force`)."""
    _lock_detector(session, detector)
    model = session.get(tables.Model, model_id)
    champion = current_champion(session, detector)
    gates = evaluate_gates(session, model, detector, champion, policy)
    passed = all(g["passed"] for g in gates.values())
    accepted = passed or (force and gates["registered"]["passed"])
    record = tables.Promotion(detector=detector, action="promote", model_id=model.id if model else None,
                              previous_model_id=champion.id if champion else None, accepted=accepted,
                              forced=force and not passed and accepted, gates=gates, actor=actor, reason=reason)
    session.add(record)
    if accepted and model is not None:
        _swap(session, champion, model)
    session.flush()
    return PromotionResult(accepted, record)


def rollback(session: Session, detector: str, *, reason: str, actor: str) -> PromotionResult:
    """Make the champion before the current one champion again; refused (and recorded) if there is none."""
    _lock_detector(session, detector)
    champion = current_champion(session, detector)
    # the promotion that made the current champion: its predecessor is where we return (rollbacks
    # walk back through promotions; they do not toggle between the last two models)
    last = session.scalars(select(tables.Promotion).where(
        tables.Promotion.detector == detector, tables.Promotion.accepted.is_(True),
        tables.Promotion.action == "promote",
        tables.Promotion.model_id == (champion.id if champion else None))
        .order_by(tables.Promotion.id.desc()).limit(1)).first() if champion else None
    previous = session.get(tables.Model, last.previous_model_id) if last and last.previous_model_id else None
    gates = {"previous_champion": {"passed": previous is not None,
                                   "detail": previous.id if previous else "no earlier champion to return to"}}
    record = tables.Promotion(detector=detector, action="rollback", model_id=previous.id if previous else None,
                              previous_model_id=champion.id if champion else None, accepted=previous is not None,
                              forced=False, gates=gates, actor=actor, reason=reason)
    session.add(record)
    if previous is not None:
        _swap(session, champion, previous)
    session.flush()
    return PromotionResult(previous is not None, record)


def _swap(session: Session, old: tables.Model | None, new: tables.Model) -> None:
    now = datetime.now(UTC)
    if old is not None:
        session.execute(update(tables.Model).where(tables.Model.id == old.id)
                        .values(status="retired", status_changed_at=now))
    closes_window = new.status == "shadow"  # a challenger promoted: its shadow window ends here
    session.execute(update(tables.Model).where(tables.Model.id == new.id)
                    .values(status="champion", status_changed_at=now,
                            **({"shadow_stopped_at": now} if closes_window else {})))
    for model in (old, new):
        if model is not None:
            session.refresh(model)


def set_shadow(session: Session, model_id: str, on: bool,
               bind: Callable[[tables.Model], None] | None = None) -> tables.Model:
    """Start (registered/retired -> shadow) or stop (shadow -> registered) shadowing a model.

    `bind(model)` runs before the shadow window opens (the gateway declares the challenger's
    queue there), so every application received inside the window reaches the challenger.
    """
    model = session.get(tables.Model, model_id)
    if model is None:
        raise PromotionError(f"unknown model {model_id!r}")
    if model.status == "champion":
        raise PromotionError(f"{model_id} is the champion; it cannot be a challenger", status=409)
    if not on and model.status != "shadow":
        raise PromotionError(f"{model_id} is not in shadow mode (status {model.status})", status=409)
    if on and model.status == "shadow":
        return model  # already shadowing: the window stays as it is
    if on and bind is not None:
        bind(model)
    now = datetime.now(UTC)
    model.status = "shadow" if on else "registered"
    model.status_changed_at = now
    if on:
        model.shadow_started_at, model.shadow_stopped_at = now, None
    else:
        model.shadow_stopped_at = now
    session.flush()
    return model
