"""Promotion and rollback of champions, behind the gates (`domain/gates.py`), every attempt on record.

`promote` and `rollback` are the use cases the admin API, the CLI and the demo all call: one
transaction (detector locked, gates run on the evidence, the attempt recorded, the champion
swapped), then the broker call that goes with it (a promoted challenger's queue is released).
`force` (with a reason) overrides failed gates, never `registered` or `certified`; the override is
recorded and flagged until another principal reviews it (`review_forced`).

With four eyes (`ARBITER_GOVERNANCE`, the default) a promotion whose gates pass is a pending
request: `approve` by another principal runs the gates again on the evidence of that moment and
promotes; `reject` (another principal) and `withdraw` (the requester) close it. Break-glass and
rollback act at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from arbiter.bootstrap import Platform
from arbiter.config import Settings
from arbiter.domain import gates as gate_rules
from arbiter.domain.errors import Conflict, NotFound
from arbiter.domain.principals import PENDING, check_decision
from arbiter.governance.model_strategies import hand_over
from arbiter.governance.shadowing import release_queue
from arbiter.insights.comparison import disparity, promotion_evidence, shadow_coverage, shadow_volume
from arbiter.store import audit_repo, models_repo, tables

UNFORCEABLE = ("registered", "certified")


@dataclass(frozen=True)
class PromotionResult:
    """Whether the change took effect, and the audit record (as `promotion_dict`)."""

    accepted: bool
    record: dict[str, Any]

    @property
    def pending(self) -> bool:
        return self.record["status"] == PENDING

    @property
    def gates(self) -> gate_rules.Gates:
        return self.record["gates"]


def policy_of(settings: Settings) -> gate_rules.PromotionPolicy:
    return gate_rules.PromotionPolicy(
        settings.promotion_min_shadow, settings.promotion_auc_tolerance, settings.certification_tolerance,
        min_labelled=settings.promotion_min_labelled, min_frauds=settings.promotion_min_frauds,
        rate_tolerance=settings.promotion_rate_tolerance, min_coverage=settings.promotion_min_coverage,
        min_disparity=settings.promotion_min_disparity)


def promotion_dict(p: tables.Promotion) -> dict[str, Any]:
    return {"id": p.id, "detector": p.detector, "action": p.action, "model_id": p.model_id,
            "previous_model_id": p.previous_model_id, "accepted": p.accepted, "forced": p.forced,
            "gates": p.gates, "actor": p.actor, "reason": p.reason, "created_at": p.created_at.isoformat(),
            "strategy_version": p.strategy_version, "previous_strategy_version": p.previous_strategy_version,
            "needs_review": bool(p.forced) and p.reviewed_at is None, "reviewed_by": p.reviewed_by,
            "reviewed_at": p.reviewed_at.isoformat() if p.reviewed_at else None, "review_comment": p.review_comment,
            "status": p.status or ("accepted" if p.accepted else "refused"), "decided_by": p.decided_by,
            "decided_at": p.decided_at.isoformat() if p.decided_at else None,
            "decision_comment": p.decision_comment, "approval_gates": p.approval_gates}


def promote(platform: Platform, model_id: str, *, reason: str, actor: str, force: bool = False,
            detector: str | None = None) -> PromotionResult:
    """Run the gates for making `model_id` champion of `detector` (its own detector by default),
    record the attempt, and swap champions if they pass (or `force`). With four eyes, passed gates
    make a pending request instead (`approve` promotes)."""
    request = platform.settings.four_eyes and not force
    with platform.sessions() as session, session.begin():
        if detector is None:
            model = session.get(tables.Model, model_id)
            if model is None:
                raise NotFound(f"unknown model {model_id!r}")
            detector = model.detector
        _lock_detector(session, detector)
        model = session.get(tables.Model, model_id)
        champion = models_repo.champion_of(session, detector)
        gates = _gates(session, model, detector, champion, policy_of(platform.settings))
        passed = gate_rules.passed(gates)
        # break-glass overrides evidence, never identity or certification: an uncertified model never serves
        accepted = passed or (force and all(gates.get(g, {"passed": True})["passed"] for g in UNFORCEABLE))
        pending = request and passed and model is not None
        if pending and _pending_request(session, model.id) is not None:
            raise Conflict(f"a promotion of {model.id} is pending already (approve, reject or withdraw it first)")
        record = tables.Promotion(detector=detector, action="promote", model_id=model.id if model else None,
                                  previous_model_id=champion.id if champion else None,
                                  accepted=accepted and not pending,
                                  forced=force and not passed and accepted, gates=gates, actor=actor, reason=reason,
                                  status=PENDING if pending else None)
        session.add(record)
        if pending:
            session.flush()
            audit_repo.append(session, actor, "promotion.requested", model_id,
                              {"detector": detector, "promotion_id": record.id, "reason": reason})
            return PromotionResult(False, promotion_dict(record))
        was_challenger = model is not None and model.status == "shadow"
        if accepted and model is not None:
            record.previous_strategy_version, record.strategy_version = hand_over(session, champion, model, actor=actor)
            _swap(session, champion, model)
        session.flush()
        result = PromotionResult(accepted, promotion_dict(record))
        audit_repo.append(session, actor, "promotion.forced" if record.forced else
                          "promotion.accepted" if accepted else "promotion.refused", model_id,
                          {"detector": detector, "promotion_id": record.id, "reason": reason,
                           "failed_gates": gate_rules.failed(gates),
                           "strategy_versions": [record.previous_strategy_version, record.strategy_version]})
    if accepted and was_challenger:
        release_queue(platform, model)  # a promoted challenger stops receiving shadow traffic
    return result


def decide(platform: Platform, promotion_id: int, action: str, *, comment: str, actor: str) -> PromotionResult:
    """Approve, reject or withdraw (`action`) the pending request `promotion_id` (four eyes:
    `domain.principals.check_decision`). Approval re-runs the gates on today's evidence against
    today's champion: passed, the model is promoted (accepted); failed, the request is closed as
    `refused` with the gates that failed."""
    with platform.sessions() as session, session.begin():
        record = session.get(tables.Promotion, promotion_id)
        if record is None or record.action != "promote":
            raise NotFound(f"no promotion request {promotion_id}")
        _lock_detector(session, record.detector)
        session.refresh(record)
        status = check_decision(f"promotion request {promotion_id}", record.status, record.actor, actor, action)
        record.decided_by, record.decided_at, record.decision_comment = actor, datetime.now(UTC), comment
        model, accepted, was_challenger = session.get(tables.Model, record.model_id), False, False
        if action == "approve":
            champion = models_repo.champion_of(session, record.detector)
            gates = _gates(session, model, record.detector, champion, policy_of(platform.settings))
            accepted = gate_rules.passed(gates)
            record.approval_gates, record.status = gates, status if accepted else "refused"
            if accepted and model is not None:
                record.previous_model_id = champion.id if champion else None
                record.previous_strategy_version, record.strategy_version = hand_over(session, champion, model,
                                                                                      actor=actor)
                was_challenger = model.status == "shadow"
                _swap(session, champion, model)
                record.accepted = True
        else:
            record.status = status
        session.flush()
        event = {"approve": "promotion.approved" if accepted else "promotion.approval_refused",
                 "reject": "promotion.rejected", "withdraw": "promotion.withdrawn"}[action]
        audit_repo.append(session, actor, event, record.model_id or record.detector, {
            "detector": record.detector, "promotion_id": record.id, "requested_by": record.actor,
            "comment": comment, **({"failed_gates": gate_rules.failed(record.approval_gates or {})}
                                   if action == "approve" else {})})
        result = PromotionResult(accepted, promotion_dict(record))
    if was_challenger:
        release_queue(platform, model)
    return result


def _pending_request(session: Session, model_id: str) -> tables.Promotion | None:
    p = tables.Promotion
    return session.scalars(select(p).where(p.model_id == model_id, p.status == PENDING).limit(1)).first()


def rollback(platform: Platform, detector: str, *, reason: str, actor: str) -> PromotionResult:
    """Make the champion before the current one champion again; refused (and recorded) if there is none."""
    with platform.sessions() as session, session.begin():
        _lock_detector(session, detector)
        champion = models_repo.champion_of(session, detector)
        undone = _last_promotion_of(session, detector, champion)
        previous = session.get(tables.Model, undone.previous_model_id) if undone and undone.previous_model_id else None
        gates = {"previous_champion": {"passed": previous is not None,
                                       "detail": previous.id if previous else "no earlier champion to return to"}}
        record = tables.Promotion(detector=detector, action="rollback", model_id=previous.id if previous else None,
                                  previous_model_id=champion.id if champion else None,
                                  accepted=previous is not None, forced=False, gates=gates, actor=actor,
                                  reason=reason)
        session.add(record)
        if previous is not None:
            record.previous_strategy_version, record.strategy_version = hand_over(
                session, champion, previous, actor=actor, restore=undone.previous_strategy_version if undone else None)
            _swap(session, champion, previous)
        session.flush()
        audit_repo.append(session, actor, "rollback" if previous is not None else "rollback.refused", detector,
                          {"promotion_id": record.id, "reason": reason, "to": record.model_id,
                           "from": record.previous_model_id,
                           "strategy_versions": [record.previous_strategy_version, record.strategy_version]})
        return PromotionResult(previous is not None, promotion_dict(record))


def review_forced(platform: Platform, promotion_id: int, *, comment: str, actor: str) -> dict[str, Any]:
    """Clear the flag of a forced promotion: by a principal other than the one who forced it."""
    with platform.sessions() as session, session.begin():
        record = session.get(tables.Promotion, promotion_id)
        if record is None:
            raise NotFound(f"no promotion {promotion_id}")
        if not record.forced:
            raise Conflict(f"promotion {promotion_id} was not forced: there is nothing to review")
        if record.reviewed_at is not None:
            raise Conflict(f"promotion {promotion_id} was reviewed already, by {record.reviewed_by}")
        if record.actor == actor:
            raise Conflict(f"four eyes: {actor} forced promotion {promotion_id} and cannot review it")
        record.reviewed_by, record.reviewed_at, record.review_comment = actor, datetime.now(UTC), comment
        audit_repo.append(session, actor, "promotion.force_reviewed", record.model_id or record.detector,
                          {"promotion_id": record.id, "forced_by": record.actor, "comment": comment})
        session.flush()
        return promotion_dict(record)


def history(platform: Platform, detector: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """The audit trail of promotions and rollbacks (those with `status`, e.g. pending), newest first."""
    query = select(tables.Promotion).order_by(tables.Promotion.id.desc())
    if detector is not None:
        query = query.where(tables.Promotion.detector == detector)
    if status is not None:
        query = query.where(tables.Promotion.status == status)
    with platform.sessions() as session:
        return [promotion_dict(p) for p in session.scalars(query)]


def _gates(session: Session, model: tables.Model | None, detector: str, champion: tables.Model | None,
           policy: gate_rules.PromotionPolicy) -> gate_rules.Gates:
    """The evidence for the gates: the model's facts, its shadow volume and coverage, and the
    comparison with the champion on the same applications."""
    if model is None:
        return gate_rules.evaluate(None, detector, policy)
    candidate = gate_rules.Candidate(model.detector, model.status, model.certification or {})
    evidence = promotion_evidence(session, model.id, champion.id) if champion is not None else None
    return gate_rules.evaluate(candidate, detector, policy, shadow_scores=shadow_volume(session, model.id),
                               coverage=shadow_coverage(session, model.id), evidence=evidence,
                               disparity=disparity(session, model.id, model.detector))


def _lock_detector(session: Session, detector: str) -> None:
    """Serialise promotions of one detector (row lock on Postgres; SQLite serialises writers)."""
    query = select(tables.Detector).where(tables.Detector.name == detector)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    if session.scalars(query).first() is None:
        raise NotFound(f"unknown detector {detector!r}")


def _last_promotion_of(session: Session, detector: str, champion: tables.Model | None) -> tables.Promotion | None:
    """The accepted promotion that made `champion` champion: rollbacks walk back through promotions
    (they do not toggle between the last two models), restoring the model and the strategy before it."""
    if champion is None:
        return None
    return session.scalars(select(tables.Promotion).where(
        tables.Promotion.detector == detector, tables.Promotion.accepted.is_(True),
        tables.Promotion.action == "promote", tables.Promotion.model_id == champion.id)
        .order_by(tables.Promotion.id.desc()).limit(1)).first()


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
