"""What decides: a detector's strategy and its rules, each change a new version.

A change adds a version (nothing is edited) inside the caller's transaction, with its audit event;
the gateways pick it up within their refresh interval (serving/state.py). Changes arrive through
`proposals.py`: with four eyes, only once another principal approved them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from arbiter.bootstrap import Platform
from arbiter.domain.errors import NotFound
from arbiter.domain.rules import RuleInput, RuleSetInput, public_view, to_stored
from arbiter.store import audit_repo, config_repo, tables
from models.detectors import DETECTORS, get_detector


def known_detector(name: str) -> str:
    """`name`, or NotFound when no detector of that name is declared."""
    if name not in DETECTORS:
        raise NotFound(f"unknown detector {name!r}")
    return name


def current_strategy(platform: Platform, detector: str) -> dict[str, Any]:
    return _current(platform, detector, "strategy")


def add_strategy_version(session: Session, detector: str, review: float, decline: float, *, note: str,
                         actor: str, proposal: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new strategy version for `detector`, in force from the next refresh (`proposal`: what
    approved it, for the audit event)."""
    row = config_repo.add_strategy(session, known_detector(detector), review, decline, note=note, actor=actor)
    audit_repo.append(session, actor, "strategy.changed", detector, {
        "version": row.version, "review_threshold": row.review_threshold,
        "decline_threshold": row.decline_threshold, "note": row.note, **(proposal or {})})
    return strategy_dict(row)


def current_rules(platform: Platform, detector: str) -> dict[str, Any]:
    return _current(platform, detector, "rules")


def stored_rules(platform: Platform, detector: str, change: RuleSetInput) -> dict[str, Any]:
    """`change` as it is stored and proposed (identity values as keyed hashes); RulesError names the
    rule that cannot apply."""
    return to_stored(get_detector(known_detector(detector)), change, platform.hasher)


def add_rules_version(session: Session, detector: str, stored: dict[str, Any], *, note: str, actor: str,
                      proposal: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new rule-set version for `detector` from its stored form (`stored_rules`)."""
    row = config_repo.add_rules(session, detector, stored, note=note, actor=actor)
    audit_repo.append(session, actor, "rules.changed", detector, {
        "version": row.version, "rules": [r["id"] for r in public_view(row.body)], "note": row.note,
        **(proposal or {})})
    return rules_dict(row)


def _current(platform: Platform, detector: str, what: str) -> dict[str, Any]:
    fetch, render = {"strategy": (config_repo.current_strategy, strategy_dict),
                     "rules": (config_repo.current_rules, rules_dict)}[what]
    with platform.sessions() as session:
        row = fetch(session, known_detector(detector))
        if row is None:
            raise NotFound(f"no {what} for {detector!r}")
        return render(row)


def strategy_dict(row: tables.Strategy) -> dict[str, Any]:
    return {"detector": row.detector, "version": row.version, "review_threshold": row.review_threshold,
            "decline_threshold": row.decline_threshold, "note": row.note, "created_by": row.created_by,
            "created_at": row.created_at.isoformat()}


def rules_dict(row: tables.RuleSet) -> dict[str, Any]:
    return {"detector": row.detector, "version": row.version, "rules": public_view(row.body), "note": row.note,
            "created_by": row.created_by, "created_at": row.created_at.isoformat()}


def synthetic_rules(detector: str) -> RuleSetInput:
    """The synthetic data's deny lists (the seed's known fraudulent identities, throw-away mail
    domains), for the demo and the tests to load explicitly: never seeded, since on a real database
    they would decline real applicants."""
    # the seed's lists live beside its synthesizers (pandas): read only when asked for
    from models.synth.applications import DISPOSABLE_DOMAINS, KNOWN_FRAUD_EMAILS, KNOWN_FRAUD_SSNS

    if known_detector(detector) != "card-applications":
        return RuleSetInput(rules=[], note="no synthetic lists for this detector")
    return RuleSetInput(note="synthetic deny lists (demo and tests only)", rules=[
        RuleInput(id="known-fraud-email", type="email", action="decline", values=list(KNOWN_FRAUD_EMAILS),
                  description="emails confirmed fraudulent in the past"),
        RuleInput(id="known-fraud-ssn", type="ssn", action="decline", values=list(KNOWN_FRAUD_SSNS),
                  description="SSNs confirmed fraudulent in the past"),
        RuleInput(id="disposable-email-domain", type="email_domain", action="review",
                  values=list(DISPOSABLE_DOMAINS), description="throw-away mailboxes"),
    ])
