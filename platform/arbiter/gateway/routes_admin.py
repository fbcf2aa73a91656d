"""`/admin/v1`: models and their reviews, shadowing, promotion requests and their approval,
rollback, the audit trail, strategy and rules proposals, principals, settings.

Adapters only: each route parses, calls one governance service and shapes the answer; refusals
(`ArbiterError`) become HTTP answers in the one error mapping. Every route authenticates a
principal (`Authorization: Bearer <token>`; `ARBITER_ADMIN_TOKEN` is the bootstrap `admin`) and
needs one of the roles it names; the actor on record is that principal. With four eyes, a
promotion or a strategy or rules change answers 202 with what is now pending. No route returns
model bytes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from arbiter.bootstrap import Platform
from arbiter.domain.errors import Conflict, Invalid
from arbiter.domain.gates import failed
from arbiter.domain.principals import ROLES, Principal
from arbiter.domain.rules import RuleSetInput
from arbiter.domain.strategies import StrategyInput
from arbiter.gateway.auth import AUTHENTICATED, admin_principal, require, requires
from arbiter.gateway.http import HttpError
from arbiter.governance import (
    audit,
    configuration,
    model_strategies,
    principals,
    promotion,
    proposals,
    registry,
    reviews,
    shadowing,
    view_settings,
    workbench,
)
from arbiter.governance.configuration import known_detector
from arbiter.insights import rules_backtest
from arbiter.insights.reporting import parse_since

UPLOAD_LIMIT = 512 * 1024 * 1024


ANYONE = requires(*ROLES)  # reading: every role, viewer included
REGISTRAR = requires("data-scientist")
SHADOWING = requires("strategist", "governance")
STRATEGIST = requires("strategist")
REQUESTER = requires("strategist", "operator")  # who asks for a promotion (and may withdraw it)
ROLLBACK = requires("strategist", "operator")
OPERATOR = requires("operator")
GOVERNANCE = requires("governance")

router = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Depends(admin_principal)])


def _platform(request: Request) -> Platform:
    return request.app.state.platform


class ChampionRequest(BaseModel):
    detector: str = Field(max_length=64)
    model_id: str = Field(max_length=160)
    reason: str = Field(min_length=3, max_length=2000)
    force: bool = False


class RollbackRequest(BaseModel):
    detector: str = Field(max_length=64)
    reason: str = Field(min_length=3, max_length=2000)


@router.get("/models")
def list_models(request: Request, detector: str | None = None, _: str = Depends(ANYONE)) -> dict[str, Any]:
    if detector is not None:
        known_detector(detector)
    return {"models": [registry.model_dict(m) for m in registry.list_models(_platform(request), detector)]}


@router.post("/models", status_code=201)
async def upload_model(request: Request, actor: str = Depends(REGISTRAR)) -> dict[str, Any]:
    """Register a bundle uploaded as a tar or tar.gz body (the bundle's files, or one folder of them)."""
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        archive, size = Path(tmp) / "bundle.tar", 0
        with archive.open("wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > UPLOAD_LIMIT:
                    raise HttpError(413, "bundle upload is larger than 512 MiB")
                fh.write(chunk)
        result = registry.register_archive(_platform(request), archive, actor=actor)
    return {"created": result.created, "model": registry.model_dict(result.model)}


@router.post("/models/{model_id}/shadow")
def start_shadow(model_id: str, request: Request, actor: str = Depends(SHADOWING)) -> dict[str, Any]:
    return registry.model_dict(shadowing.change_shadow(_platform(request), model_id, True, actor=actor))


@router.delete("/models/{model_id}/shadow")
def stop_shadow(model_id: str, request: Request, actor: str = Depends(SHADOWING)) -> dict[str, Any]:
    return registry.model_dict(shadowing.change_shadow(_platform(request), model_id, False, actor=actor))


class ReviewRequest(BaseModel):
    comment: str = Field(min_length=3, max_length=2000)


class ModelReview(BaseModel):
    decision: str = Field(pattern="^(approve|reject)$", description="approve or reject")
    comment: str = Field(min_length=3, max_length=2000)


class Decision(BaseModel):
    comment: str = Field("", max_length=2000)


@router.get("/models/{model_id}/review")
def model_dossier(model_id: str, request: Request, _: str = Depends(ANYONE)) -> dict[str, Any]:
    """What a reviewer reads: governance metadata, strategy, fairness (validation and live), the review."""
    return reviews.dossier(_platform(request), model_id)


@router.post("/models/{model_id}/review")
def review_model(model_id: str, body: ModelReview, request: Request, actor: str = Depends(GOVERNANCE)
                 ) -> dict[str, Any]:
    """Approve or reject a registered model (governance, not its registrant): only approved ones enter shadow."""
    return reviews.review_model(_platform(request), model_id, decision=body.decision, comment=body.comment,
                                actor=actor)


@router.get("/models/{model_id}/strategy")
def get_model_strategy(model_id: str, request: Request, _: str = Depends(ANYONE)) -> dict[str, Any]:
    return model_strategies.model_strategy(_platform(request), model_id)


@router.put("/models/{model_id}/strategy")
def put_model_strategy(model_id: str, body: StrategyInput, request: Request,
                       actor: str = Depends(STRATEGIST)) -> Any:
    return _submitted(proposals.submit_model_strategy(_platform(request), model_id, body, actor=actor))


def _submitted(result: proposals.Submitted) -> Any:
    """A pending proposal answers 202; a change applied at once (governance off), 200 with its version."""
    return JSONResponse(result.record, status_code=202) if result.pending else result.record


@router.post("/champion")
def promote_champion(body: ChampionRequest, request: Request,
                     principal: Principal = AUTHENTICATED) -> Any:
    # force is decided by the principal's role; the body only says what is asked for
    actor = require(principal, ("operator",), " (force is break-glass)") if body.force else \
        require(principal, ("strategist", "operator"))
    result = promotion.promote(_platform(request), body.model_id, detector=known_detector(body.detector),
                               reason=body.reason, actor=actor, force=body.force)
    if result.pending:
        return JSONResponse(result.record, status_code=202)
    if not result.accepted:
        raise Conflict("promotion refused by the gates (recorded in the audit trail); "
                       "use force with a reason to override",
                       [{"field": name, "message": f"gate failed: {result.gates[name]['detail']}"}
                        for name in failed(result.gates)])
    return result.record


@router.post("/champion/rollback")
def rollback_champion(body: RollbackRequest, request: Request, actor: str = Depends(ROLLBACK)) -> Any:
    result = promotion.rollback(_platform(request), known_detector(body.detector), reason=body.reason, actor=actor)
    if not result.accepted:
        raise Conflict("no earlier champion to roll back to (the attempt is recorded)")
    return result.record


@router.get("/promotions")
def promotions(request: Request, detector: str | None = None, status: str | None = None,
               _: str = Depends(ANYONE)) -> dict[str, Any]:
    if detector is not None:
        known_detector(detector)
    return {"promotions": promotion.history(_platform(request), detector, status)}


@router.post("/promotions/{promotion_id}/approve")
def approve_promotion(promotion_id: int, body: Decision, request: Request, actor: str = Depends(GOVERNANCE)) -> Any:
    """The final approval (governance, not the requester): the gates run again, then the model is champion."""
    result = promotion.decide(_platform(request), promotion_id, "approve", comment=body.comment, actor=actor)
    if not result.accepted:
        gates = result.record["approval_gates"] or {}
        raise Conflict("the gates failed at approval: the request is closed as refused (on record); "
                       "request again when the evidence allows",
                       [{"field": name, "message": f"gate failed: {gates[name]['detail']}"} for name in failed(gates)])
    return result.record


@router.post("/promotions/{promotion_id}/reject")
def reject_promotion(promotion_id: int, body: ReviewRequest, request: Request,
                     actor: str = Depends(GOVERNANCE)) -> dict[str, Any]:
    return promotion.decide(_platform(request), promotion_id, "reject", comment=body.comment, actor=actor).record


@router.post("/promotions/{promotion_id}/withdraw")
def withdraw_promotion(promotion_id: int, body: Decision, request: Request,
                       actor: str = Depends(REQUESTER)) -> dict[str, Any]:
    return promotion.decide(_platform(request), promotion_id, "withdraw", comment=body.comment, actor=actor).record


@router.post("/promotions/{promotion_id}/review")
def review_forced_promotion(promotion_id: int, body: ReviewRequest, request: Request,
                            actor: str = Depends(GOVERNANCE)) -> dict[str, Any]:
    """Review a forced (break-glass) promotion after the fact: by a governance principal other than its forcer."""
    return promotion.review_forced(_platform(request), promotion_id, comment=body.comment, actor=actor)


@router.get("/audit")
def audit_trail(request: Request, since: str | None = None, _: str = Depends(ANYONE)) -> dict[str, Any]:
    """The audit trail in chain order (from `since` on: ISO 8601 or a span such as 7d)."""
    moment = None
    if since is not None:
        try:
            moment = parse_since(since)
        except ValueError as exc:
            raise Invalid(f"since: {exc}", [{"field": "since", "message": str(exc)}]) from None
    return {"events": audit.events(_platform(request), moment)}


@router.get("/detectors/{detector}/strategy")
def get_strategy(detector: str, request: Request, _: str = Depends(ANYONE)) -> dict[str, Any]:
    return configuration.current_strategy(_platform(request), detector)


@router.put("/detectors/{detector}/strategy")
def put_strategy(detector: str, body: StrategyInput, request: Request, actor: str = Depends(STRATEGIST)) -> Any:
    return _submitted(proposals.submit_strategy(_platform(request), detector, body, actor=actor))


@router.post("/detectors/{detector}/simulate")
def simulate(detector: str, body: workbench.SimulationRequest, request: Request,
             actor: str = Depends(STRATEGIST)) -> dict[str, Any]:
    """What a strategy would have done on a model's stored evidence (rates, frauds caught and their
    amount, false declines, reviews a day, expected cost), the cost curve, the cheapest thresholds
    under a review capacity; with `save`, the thresholds become a strategy proposal."""
    return workbench.simulate_strategy(_platform(request), detector, body, actor=actor)


@router.get("/detectors/{detector}/rules")
def get_rules(detector: str, request: Request, _: str = Depends(ANYONE)) -> dict[str, Any]:
    return configuration.current_rules(_platform(request), detector)


@router.put("/detectors/{detector}/rules")
def put_rules(detector: str, body: RuleSetInput, request: Request, actor: str = Depends(STRATEGIST)) -> Any:
    return _submitted(proposals.submit_rules(_platform(request), detector, body, actor=actor))


@router.get("/proposals")
def list_proposals(request: Request, status: str | None = "pending", detector: str | None = None,
                   _: str = Depends(ANYONE)) -> dict[str, Any]:
    """Strategy and rules proposals (pending by default; `status=all` for every one)."""
    return {"proposals": proposals.proposals(_platform(request), None if status == "all" else status, detector)}


@router.post("/proposals/{proposal_id}/approve")
def approve_proposal(proposal_id: int, body: Decision, request: Request,
                     actor: str = Depends(GOVERNANCE)) -> dict[str, Any]:
    return proposals.decide(_platform(request), proposal_id, "approve", comment=body.comment, actor=actor)


@router.post("/proposals/{proposal_id}/reject")
def reject_proposal(proposal_id: int, body: ReviewRequest, request: Request,
                    actor: str = Depends(GOVERNANCE)) -> dict[str, Any]:
    return proposals.decide(_platform(request), proposal_id, "reject", comment=body.comment, actor=actor)


@router.post("/proposals/{proposal_id}/withdraw")
def withdraw_proposal(proposal_id: int, body: Decision, request: Request,
                      actor: str = Depends(STRATEGIST)) -> dict[str, Any]:
    return proposals.decide(_platform(request), proposal_id, "withdraw", comment=body.comment, actor=actor)


class BacktestWindow(BaseModel):
    since: str = Field("30d", max_length=64, description="ISO date or a span back from now: 30d, 12h")


@router.post("/proposals/{proposal_id}/backtest")
def backtest_proposal(proposal_id: int, body: BacktestWindow, request: Request,
                      _: str = Depends(requires("strategist", "governance"))) -> dict[str, Any]:
    """A rules proposal on the stored applications: hits per rule with labels and amounts, and the
    decisions it would change (identities compared as keyed hashes)."""
    try:
        since = parse_since(body.since)
    except ValueError as exc:
        raise Invalid(str(exc), [{"field": "since", "message": str(exc)}]) from None
    return rules_backtest.backtest_rules(_platform(request), proposal_id, since)


@router.get("/settings")
def get_settings(request: Request, _: str = Depends(ANYONE)) -> dict[str, Any]:
    return view_settings.current_settings(_platform(request))


@router.put("/settings")
def put_settings(body: view_settings.SettingsChange, request: Request, actor: str = Depends(OPERATOR)
                 ) -> dict[str, Any]:
    """What the evidence is read with (label maturity, costs): at once, on record."""
    return view_settings.change_settings(_platform(request), body, actor=actor)


class PrincipalRequest(BaseModel):
    name: str = Field(max_length=64)
    roles: list[str] = Field(min_length=1, max_length=5)


@router.post("/principals", status_code=201)
def add_principal(body: PrincipalRequest, request: Request, actor: str = Depends(OPERATOR)) -> dict[str, Any]:
    """A new principal; the answer carries its token, once."""
    token = principals.add_principal(_platform(request), body.name, body.roles, actor=actor)
    return {"name": body.name, "roles": sorted(set(body.roles)), "token": token}


@router.get("/principals")
def list_principals(request: Request, _: str = Depends(OPERATOR)) -> dict[str, Any]:
    return {"principals": principals.list_principals(_platform(request))}


@router.delete("/principals/{name}")
def revoke_principal(name: str, request: Request, actor: str = Depends(OPERATOR)) -> dict[str, Any]:
    return principals.revoke_principal(_platform(request), name, actor=actor)
