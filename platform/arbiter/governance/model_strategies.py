"""Each model's own strategy: the thresholds its shadow decisions use and that promotion makes the
detector's.

At registration a model's thresholds are chosen to give the review and decline rates the champion
gives now (its last 30 days in production, or, with too little of that, its validation window under
the detector's strategy), read off the new model's own validation scores (`score_quantiles` in its
manifest). A model whose scores live on another scale (an isolation forest, a DBSCAN outlier score)
so declines as many applications as the champion, not whatever share happens to cross 0.8. How
they were chosen is kept with them (`basis`). Without a champion, or without quantiles in an older
bundle, the model starts with the detector's thresholds, and says so.

The champion decides with the detector's strategy (`PUT /admin/v1/detectors/{d}/strategy`);
promotion copies the candidate's thresholds into a new detector strategy version and records
the version before and after it in the promotion, so a rollback restores the pair exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from arbiter.bootstrap import Platform
from arbiter.domain.errors import Conflict, NotFound
from arbiter.domain.strategies import Strategy, matched_thresholds, rates_under
from arbiter.store import audit_repo, config_repo, evidence_repo, models_repo, tables

RATES_WINDOW_DAYS = 30
MIN_DECIDED = 1_000  # fewer decisions than this in the window: the champion's validation rates instead


def initial_strategy(session: Session, model: tables.Model, *, actor: str) -> tables.ModelStrategy:
    """`model`'s first thresholds (see the module's docstring)."""
    detector = config_repo.strategy_in_force(session, model.detector)
    mine = _quantiles(model)
    champion = models_repo.champion_of(session, model.detector)
    target = _champion_rates(session, champion, detector) if champion is not None and champion.id != model.id \
        else None
    if target is not None and mine is not None:
        review_rate, decline_rate, source = target
        review, decline = matched_thresholds(mine[0], review_rate, decline_rate, levels=mine[1])
        basis = {"method": "matched rates", "review_rate": review_rate, "decline_rate": decline_rate, **source,
                 "scores": "this model's validation window"}
        note = f"the review and decline rates of {champion.id} ({source['source']})"
    else:
        review, decline = detector.review_threshold, detector.decline_threshold
        why = "no champion to match" if target is None else "the bundle has no validation score quantiles"
        basis = {"method": "detector strategy", "strategy_version": detector.version, "why": why}
        note = f"the detector's strategy v{detector.version} ({why})"
    return config_repo.add_model_strategy(session, model.id, review, decline, basis=basis, note=note, actor=actor)


def _quantiles(model: tables.Model) -> tuple[list[float], list[float] | None] | None:
    """The model's validation score quantiles and their levels (None: evenly spaced), if its bundle has them."""
    recorded = (model.manifest or {}).get("score_quantiles") or {}
    scores, levels = recorded.get("scores"), recorded.get("levels")
    if not scores or len(scores) < 2 or (levels is not None and len(levels) != len(scores)):
        return None
    return [float(s) for s in scores], [float(v) for v in levels] if levels is not None else None


def _champion_rates(session: Session, champion: tables.Model, detector: Strategy
                    ) -> tuple[float, float, dict[str, Any]] | None:
    """The champion's (review rate, decline rate) now, and where they come from (None: unknown)."""
    since = (datetime.now(UTC) - timedelta(days=RATES_WINDOW_DAYS)).date()
    decided, shares = evidence_repo.decision_shares(session, champion.id, since)
    if decided >= MIN_DECIDED:
        return shares.get("review", 0.0), shares.get("decline", 0.0), {
            "source": f"{champion.id} in production", "applications": decided, "since": since.isoformat()}
    theirs = _quantiles(champion)
    if theirs is None:
        return None
    review_rate, decline_rate = rates_under(theirs[0], detector.review_threshold, detector.decline_threshold,
                                            levels=theirs[1])
    return review_rate, decline_rate, {"source": f"{champion.id} on its validation window under the detector's "
                                                 f"strategy v{detector.version}"}


def model_strategy(platform: Platform, model_id: str) -> dict[str, Any]:
    """`model_id`'s thresholds; for the champion, the detector's strategy it decides with."""
    with platform.sessions() as session:
        model = _model(session, model_id)
        if model.status == "champion":
            row = config_repo.current_strategy(session, model.detector)
            if row is None:
                raise NotFound(f"no strategy for {model.detector!r}")
            return {"model_id": model.id, "in_force": "the detector's strategy (champion)", "version": row.version,
                    "review_threshold": row.review_threshold, "decline_threshold": row.decline_threshold,
                    "basis": {"method": "detector strategy", "strategy_version": row.version}, "note": row.note,
                    "created_by": row.created_by, "created_at": row.created_at.isoformat()}
        row = config_repo.model_strategy(session, model.id)
        if row is None:
            raise NotFound(f"no strategy on record for {model_id!r}")
        return model_strategy_dict(row)


def changeable(session: Session, model_id: str) -> tables.Model:
    """`model_id`, when its own thresholds can change: a model that is not the champion."""
    model = _model(session, model_id)
    if model.status == "champion":
        raise Conflict(f"{model_id} is the champion: it decides with its detector's strategy; change that "
                       f"(PUT /admin/v1/detectors/{model.detector}/strategy)")
    return model


def add_model_strategy_version(session: Session, model_id: str, review: float, decline: float, *, note: str,
                               actor: str, proposal: dict[str, Any] | None = None) -> dict[str, Any]:
    """New thresholds for a model that is not the champion (its shadow decisions use them from the
    workers' next refresh)."""
    model = changeable(session, model_id)
    row = config_repo.add_model_strategy(session, model.id, review, decline, basis={"method": "set by hand"},
                                         note=note, actor=actor)
    audit_repo.append(session, actor, "model_strategy.changed", model.id, {
        "version": row.version, "review_threshold": row.review_threshold,
        "decline_threshold": row.decline_threshold, "note": row.note, **(proposal or {})})
    return model_strategy_dict(row)


def model_strategy_dict(row: tables.ModelStrategy) -> dict[str, Any]:
    return {"model_id": row.model_id, "in_force": "its shadow decisions", "version": row.version,
            "review_threshold": row.review_threshold, "decline_threshold": row.decline_threshold,
            "basis": row.basis, "note": row.note, "created_by": row.created_by,
            "created_at": row.created_at.isoformat()}


def _model(session: Session, model_id: str) -> tables.Model:
    model = session.get(tables.Model, model_id)
    if model is None:
        raise NotFound(f"unknown model {model_id!r}")
    return model


def hand_over(session: Session, outgoing: tables.Model | None, incoming: tables.Model, *, actor: str,
              restore: int | None = None) -> tuple[int | None, int | None]:
    """The detector's strategy for `incoming` as champion: its own thresholds (promotion), or those
    of detector strategy version `restore` (rollback). `outgoing` keeps the detector's thresholds it
    decided with as its own. The detector's strategy versions (before, after)."""
    detector = incoming.detector
    before = config_repo.current_strategy(session, detector)
    if outgoing is not None and before is not None:
        config_repo.add_model_strategy(
            session, outgoing.id, before.review_threshold, before.decline_threshold, actor=actor,
            basis={"method": "detector strategy", "strategy_version": before.version},
            note=f"the detector's strategy v{before.version} it decided with as champion")
    if restore is not None:
        source = config_repo.strategy_version(session, detector, restore)
        review, decline = (source.review_threshold, source.decline_threshold) if source else (None, None)
        note = f"rollback to {incoming.id}: the thresholds of v{restore}"
    else:
        own = config_repo.model_strategy(session, incoming.id)
        review, decline = (own.review_threshold, own.decline_threshold) if own else (None, None)
        note = f"promotion of {incoming.id}: its own thresholds" + (f" (v{own.version})" if own else "")
    current = before.version if before is not None else None
    if review is None or decline is None or (
            before is not None and (before.review_threshold, before.decline_threshold) == (review, decline)):
        return current, current  # nothing to hand over, or the same thresholds: the detector's strategy stays
    return current, config_repo.add_strategy(session, detector, review, decline, note=note, actor=actor).version
