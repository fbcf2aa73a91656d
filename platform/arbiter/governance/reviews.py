"""Model review: the first governance step. A `governance` principal other than the registrant
reads the model's dossier (the manifest's governance metadata and its fairness, on the validation
window and, once it has decided, on live traffic) and approves or rejects it, with a comment.

With four eyes (`ARBITER_GOVERNANCE`, the default) only an approved model enters shadow mode
(`shadowing.change_shadow`). A review is final: a rejected model is registered again, changed, as
a new bundle. Every review is in the audit trail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from arbiter.bootstrap import Platform
from arbiter.domain.errors import Conflict, Invalid, NotFound
from arbiter.governance.model_strategies import model_strategy
from arbiter.governance.registry import model_dict
from arbiter.store import audit_repo, tables
from models.segments import segment_rates

DECISIONS = {"approve": "approved", "reject": "rejected"}
GOVERNANCE_METADATA = ("windows", "data_quality", "metrics", "threshold", "feature_importance", "certification",
                       "library_versions", "hyper_parameters")
_LIVE_FAIRNESS = text("SELECT dimension, segment, applications, approval_rate, review_rate, decline_rate, "
                      "disparity_ratio FROM model_fairness WHERE model_id = :model ORDER BY dimension, segment")


def review_model(platform: Platform, model_id: str, *, decision: str, comment: str, actor: str) -> dict[str, Any]:
    """Approve or reject `model_id`; 409 when it was reviewed already or `actor` registered it."""
    if decision not in DECISIONS:
        raise Invalid(f"decision: {decision!r} is not one of {', '.join(DECISIONS)}",
                      [{"field": "decision", "message": "approve or reject"}])
    with platform.sessions() as session, session.begin():
        model = session.get(tables.Model, model_id)
        if model is None:
            raise NotFound(f"unknown model {model_id!r}")
        if model.review is not None:
            raise Conflict(f"{model_id} was reviewed already ({model.review} by {model.reviewed_by}); "
                           "a changed model is registered as a new bundle")
        if model.registered_by == actor:
            raise Conflict(f"four eyes: {actor} registered {model_id} and cannot review it")
        model.review, model.reviewed_by, model.review_comment = DECISIONS[decision], actor, comment
        model.reviewed_at = datetime.now(UTC)
        audit_repo.append(session, actor, f"model.{DECISIONS[decision]}", model.id,
                          {"detector": model.detector, "registered_by": model.registered_by, "comment": comment})
        session.flush()
        return model_dict(model)


def dossier(platform: Platform, model_id: str) -> dict[str, Any]:
    """What a reviewer reads: the model, its review, the manifest's governance metadata, its
    strategy, and its fairness report (validation window under its strategy; live, once scored)."""
    with platform.sessions() as session:
        model = session.get(tables.Model, model_id)
        if model is None:
            raise NotFound(f"unknown model {model_id!r}")
        live = [dict(r) for r in session.execute(_LIVE_FAIRNESS, {"model": model_id}).mappings()]
        described, manifest = model_dict(model), dict(model.manifest or {})
    strategy = model_strategy(platform, model_id)
    return {"model": described, "governance": {k: manifest.get(k) for k in GOVERNANCE_METADATA},
            "strategy": strategy, "fairness": {
                "validation": validation_fairness(manifest, strategy["review_threshold"],
                                                  strategy["decline_threshold"]),
                "live": live or None}}


def validation_fairness(manifest: dict[str, Any], review: float, decline: float) -> dict[str, Any] | None:
    """The bundle's validation-window decision rates per age band and region under (`review`,
    `decline`), with the disparity ratio per dimension; None when the bundle has no such evidence
    (a detector without those fields, or a bundle trained before it was recorded)."""
    evidence = manifest.get("fairness")
    if not evidence:
        return None
    return {"window": evidence.get("window", "validation"), "thresholds": {"review": review, "decline": decline},
            "dimensions": segment_rates(evidence, review, decline)}
