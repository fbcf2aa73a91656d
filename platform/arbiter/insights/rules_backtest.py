"""Backtesting a rules proposal on stored applications: how many it would have hit (per rule, with
their labels and amounts) and which decisions would have changed. Identities compare as keyed
hashes: a stored application keeps its PII fields as HMACs under the deployment's key, and a rules
proposal keeps its identity values the same way, so an e-mail, SSN or device rule is checked hash
against hash. Domain and network rules compare the keyed hashes of their domains and networks with
the e-mail domain and IP network recorded with each application (`arbiter.domain.derivations`).
A network rule listing a network narrower than the recorded /24 (IPv4) or /48 (IPv6) cannot be
backtested; the answer names it. Applications decided on record by such a rule, or by a domain or
network rule when they were stored before derivations were recorded, are counted as undetermined
rather than changed."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select

from arbiter.bootstrap import Platform
from arbiter.domain.errors import Conflict, NotFound
from arbiter.domain.rules import CompiledRules
from arbiter.store import tables
from arbiter.store.records_repo import applications_page
from models.detectors import DETECTORS

BATCH = 5_000
MODEL = "model"  # what decides an application no rule hits


def backtest_rules(platform: Platform, proposal_id: int, since: datetime, *, batch: int = BATCH) -> dict[str, Any]:
    """Proposal `proposal_id`'s rule set on its detector's applications received from `since` on."""
    started = time.perf_counter()
    with platform.sessions() as session:
        proposal = session.get(tables.Proposal, proposal_id)
        if proposal is None:
            raise NotFound(f"no proposal {proposal_id}")
        if proposal.kind != "rules":
            raise Conflict(f"proposal {proposal_id} changes a {proposal.kind}: only rules proposals are backtested")
        detector, body = DETECTORS[proposal.detector], proposal.body
    rules = CompiledRules.compile(0, body).for_stored(platform.hasher, frozenset(detector.pii_fields))
    unreadable = set(rules.unreadable)
    needs_derivations = rules.needs_derivations()
    per_rule: dict[str, Counter] = {r["id"]: Counter() for r in body.get("rules", []) if r["id"] not in unreadable}
    changed: Counter = Counter()
    totals: Counter = Counter()
    a, d, o = tables.Application, tables.Decision, tables.Outcome
    cursor: tuple[datetime, str] = (since, "")
    while True:
        with platform.sessions() as session:
            rows = session.execute(applications_page(
                select(a.application_id, a.received_at, a.payload, a.derived, a.amount, d.decision, d.model_id,
                       d.reasons, o.is_fraud)
                .outerjoin(d, d.application_id == a.application_id)
                .outerjoin(o, o.application_id == a.application_id),
                detector.name, since, cursor, batch)).all()
        if not rows:
            break
        cursor = (rows[-1].received_at, rows[-1].application_id)
        for row in rows:
            totals["applications"] += 1
            hits = rules.evaluate(row.payload or {}, row.derived)
            blind = unreadable  # rules this application cannot be checked against
            if row.derived is None and needs_derivations:  # stored before derivations were recorded
                blind = unreadable | needs_derivations
                totals["without_derivations"] += 1
            label = "unlabelled" if row.is_fraud is None else "frauds" if row.is_fraud else "legit"
            amount = float(row.amount or 0.0)
            for hit in hits:
                counts = per_rule[hit.rule_id]
                counts["hits"] += 1
                counts[label] += 1
                counts["amount"] += amount
                if label == "frauds":
                    counts["fraud_amount"] += amount
            if hits:
                totals["hit"] += 1
            on_record = row.decision
            if on_record is None:
                continue  # stored without a decision on record (none in normal operation)
            by_rule = row.model_id is None
            fired = [r[len("rule:"):] for r in (row.reasons or []) if str(r).startswith("rule:")]
            if by_rule and any(r in blind for r in fired):
                totals["undetermined"] += 1
                continue
            would = hits[0].action if hits else (MODEL if by_rule else on_record)
            was = on_record if not by_rule else f"{on_record} (rule)"
            if would != on_record or (by_rule and not hits):
                changed[(was, would if would != MODEL else "the model decides (no score on record)", label)] += 1
    transitions: dict[tuple[str, str], Counter] = {}
    for (was, would, label), n in changed.items():
        transitions.setdefault((was, would), Counter())[label] += n
    return {
        "proposal": proposal_id, "detector": detector.name, "since": since.isoformat(),
        "applications": totals["applications"], "hit": totals["hit"],
        "rules": [{"id": rid, "hits": c["hits"], "frauds": c["frauds"], "legit": c["legit"],
                   "unlabelled": c["unlabelled"], "amount": round(c["amount"], 2),
                   "fraud_amount": round(c["fraud_amount"], 2)} for rid, c in per_rule.items()],
        "changed": [{"from": was, "to": would, "applications": sum(c.values()), "frauds": c["frauds"],
                     "legit": c["legit"], "unlabelled": c["unlabelled"]}
                    for (was, would), c in sorted(transitions.items(), key=lambda kv: -sum(kv[1].values()))],
        "not_backtestable": [{"id": rid, "why": why} for rid, why in sorted(rules.unreadable.items())],
        "undetermined": totals["undetermined"],
        "without_derivations": totals["without_derivations"],
        "elapsed_ms": round((time.perf_counter() - started) * 1e3, 1),
    }
