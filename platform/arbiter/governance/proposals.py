"""Proposals: changes to a detector's strategy or rules, or to a model's own strategy, that take
effect only once a principal other than the proposer approves them (four eyes, the default).

`submit_*` is what a `PUT` calls: with four eyes it stores a pending proposal (rules already in
their stored form: identities as keyed hashes, so a proposal holds no PII); with
`ARBITER_GOVERNANCE=off` it adds the version at once. The versions the gateways and workers load
are only ever written here, on approval (or at once in a lab), so nothing unapproved is served.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arbiter.bootstrap import Platform
from arbiter.domain.errors import NotFound
from arbiter.domain.principals import PENDING, check_decision
from arbiter.domain.rules import RuleSetInput, public_view
from arbiter.domain.strategies import StrategyInput
from arbiter.governance.configuration import add_rules_version, add_strategy_version, known_detector, stored_rules
from arbiter.governance.model_strategies import add_model_strategy_version, changeable
from arbiter.store import audit_repo, tables


@dataclass(frozen=True)
class Submitted:
    """A change as submitted: `pending` (the proposal) or applied at once (the new version)."""

    pending: bool
    record: dict[str, Any]


def submit_strategy(platform: Platform, detector: str, change: StrategyInput, *, actor: str) -> Submitted:
    body = {"review_threshold": change.review_threshold, "decline_threshold": change.decline_threshold}
    return _submit(platform, "strategy", known_detector(detector), None, body, change.note, actor)


def submit_rules(platform: Platform, detector: str, change: RuleSetInput, *, actor: str) -> Submitted:
    return _submit(platform, "rules", detector, None, stored_rules(platform, detector, change), change.note, actor)


def submit_model_strategy(platform: Platform, model_id: str, change: StrategyInput, *, actor: str) -> Submitted:
    body = {"review_threshold": change.review_threshold, "decline_threshold": change.decline_threshold}
    with platform.sessions() as session:
        detector = changeable(session, model_id).detector
    return _submit(platform, "model-strategy", detector, model_id, body, change.note, actor)


def decide(platform: Platform, proposal_id: int, action: str, *, comment: str, actor: str) -> dict[str, Any]:
    """Approve (the change becomes a version, in force from the next refresh), reject, or withdraw
    (the proposer) pending proposal `proposal_id`."""
    with platform.sessions() as session, session.begin():
        query = select(tables.Proposal).where(tables.Proposal.id == proposal_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()  # two approvers at once: one wins, the other sees it decided
        row = session.scalars(query).first()
        if row is None:
            raise NotFound(f"no proposal {proposal_id}")
        row.status = check_decision(f"proposal {proposal_id}", row.status, row.proposed_by, actor, action)
        row.decided_by, row.decided_at, row.decision_comment = actor, datetime.now(UTC), comment
        if action == "approve":
            applied = _apply(session, row, actor, {"proposal_id": row.id, "proposed_by": row.proposed_by})
            row.version = applied["version"]
        session.flush()
        audit_repo.append(session, actor, f"proposal.{row.status}", _subject(row), {
            "proposal_id": row.id, "kind": row.kind, "proposed_by": row.proposed_by, "comment": comment,
            "version": row.version})
        return proposal_dict(row)


def proposals(platform: Platform, status: str | None = PENDING, detector: str | None = None) -> list[dict[str, Any]]:
    """Proposals with `status` (all of them: None), newest first."""
    p = tables.Proposal
    query = select(p).order_by(p.id.desc())
    if status is not None:
        query = query.where(p.status == status)
    if detector is not None:
        query = query.where(p.detector == known_detector(detector))
    with platform.sessions() as session:
        return [proposal_dict(r) for r in session.scalars(query)]


def proposal_dict(row: tables.Proposal) -> dict[str, Any]:
    body = {"rules": public_view(row.body)} if row.kind == "rules" else dict(row.body)
    return {"id": row.id, "status": row.status, "kind": row.kind, "detector": row.detector,
            "model_id": row.model_id, "change": body, "note": row.note, "proposed_by": row.proposed_by,
            "proposed_at": row.proposed_at.isoformat(), "decided_by": row.decided_by,
            "decided_at": row.decided_at.isoformat() if row.decided_at else None,
            "decision_comment": row.decision_comment, "version": row.version}


def _submit(platform: Platform, kind: str, detector: str, model_id: str | None, body: dict[str, Any], note: str,
            actor: str) -> Submitted:
    with platform.sessions() as session, session.begin():
        row = tables.Proposal(kind=kind, detector=detector, model_id=model_id, body=body, note=note,
                              status=PENDING, proposed_by=actor, proposed_at=datetime.now(UTC))
        if not platform.settings.four_eyes:
            return Submitted(False, _apply(session, row, actor, {"governance": "off"}))
        session.add(row)
        session.flush()
        audit_repo.append(session, actor, "proposal.created", _subject(row),
                          {"proposal_id": row.id, "kind": kind, "note": note,
                           "change": proposal_dict(row)["change"]})
        return Submitted(True, proposal_dict(row))


def _apply(session: Session, row: tables.Proposal, actor: str, why: dict[str, Any]) -> dict[str, Any]:
    if row.kind == "rules":
        return add_rules_version(session, row.detector, row.body, note=row.note, actor=actor, proposal=why)
    review, decline = row.body["review_threshold"], row.body["decline_threshold"]
    if row.kind == "strategy":
        return add_strategy_version(session, row.detector, review, decline, note=row.note, actor=actor, proposal=why)
    assert row.model_id is not None
    return add_model_strategy_version(session, row.model_id, review, decline, note=row.note, actor=actor,
                                      proposal=why)


def _subject(row: tables.Proposal) -> str:
    return row.model_id or row.detector
