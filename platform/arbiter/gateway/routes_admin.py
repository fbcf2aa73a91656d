"""`/admin/v1`: models, shadowing, promotion and rollback, the audit trail, strategy and rules.

Every route needs `Authorization: Bearer $ARBITER_ADMIN_TOKEN`. No route returns model bytes.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from arbiter.bootstrap import Platform
from arbiter.errors import RegistrationError
from arbiter.gateway.auth import check_admin
from arbiter.gateway.http import HttpError
from arbiter.promotion import PromotionError, PromotionPolicy, promote, promotion_dict, rollback
from arbiter.registry import register_bundle
from arbiter.rules import RulesError, RuleSetInput, public_view, to_stored
from arbiter.shadowing import change_shadow, release_queue
from arbiter.store import config_repo, models_repo, tables
from arbiter.strategies import StrategyInput
from models.detectors import DETECTORS, get_detector

UPLOAD_LIMIT = 512 * 1024 * 1024


def admin_actor(request: Request) -> str:
    return check_admin(request, request.app.state.admin_token)


router = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Depends(admin_actor)])


def _platform(request: Request) -> Platform:
    return request.app.state.platform


def _policy(platform: Platform) -> PromotionPolicy:
    s = platform.settings
    return PromotionPolicy(s.promotion_min_shadow, s.promotion_auc_tolerance, s.certification_tolerance)


def _detector(name: str) -> str:
    if name not in DETECTORS:
        raise HttpError(404, f"unknown detector {name!r}")
    return name


def model_dict(m: tables.Model) -> dict[str, Any]:
    return {"id": m.id, "detector": m.detector, "name": m.name, "version": m.version, "recipe": m.recipe,
            "flavour": m.flavour, "runtime": m.runtime, "status": m.status, "sha256": m.sha256,
            "metrics": m.metrics, "certification": m.certification, "registered_at": m.registered_at.isoformat(),
            "registered_by": m.registered_by, "windows": m.manifest.get("windows"),
            "shadow": {"started_at": _iso(m.shadow_started_at), "stopped_at": _iso(m.shadow_stopped_at)}}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class ChampionRequest(BaseModel):
    detector: str = Field(max_length=64)
    model_id: str = Field(max_length=160)
    reason: str = Field(min_length=3, max_length=2000)
    force: bool = False


class RollbackRequest(BaseModel):
    detector: str = Field(max_length=64)
    reason: str = Field(min_length=3, max_length=2000)


@router.get("/models")
def list_models(request: Request, detector: str | None = None) -> dict[str, Any]:
    if detector is not None:
        _detector(detector)
    with _platform(request).sessions() as session:
        return {"models": [model_dict(m) for m in models_repo.list_models(session, detector)]}


@router.post("/models", status_code=201)
async def upload_model(request: Request, actor: str = Depends(admin_actor)) -> dict[str, Any]:
    """Register a bundle uploaded as a tar or tar.gz body (the bundle's files, or one folder of them)."""
    platform = _platform(request)
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        archive, size = Path(tmp) / "bundle.tar", 0
        with archive.open("wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > UPLOAD_LIMIT:
                    raise HttpError(413, "bundle upload is larger than 512 MiB")
                fh.write(chunk)
        target = Path(tmp) / "bundle"
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(target, filter="data")  # refuses absolute paths, links out, devices
        except (tarfile.TarError, OSError) as exc:
            raise HttpError(422, f"the body is not a usable tar archive: {exc}") from None
        manifests = list(target.rglob("manifest.json"))
        if len(manifests) != 1:
            raise HttpError(422, "the archive must hold exactly one bundle (one manifest.json)")
        try:
            result = register_bundle(manifests[0].parent, platform.sessions, platform.settings.registry_dir,
                                     tolerance=platform.settings.certification_tolerance, actor=actor)
        except RegistrationError as exc:
            raise HttpError(422, str(exc)) from None
        finally:
            shutil.rmtree(target, ignore_errors=True)
    return {"created": result.created, "model": model_dict(result.model)}


@router.post("/models/{model_id}/shadow")
def start_shadow(model_id: str, request: Request) -> dict[str, Any]:
    return _shadow(request, model_id, True)


@router.delete("/models/{model_id}/shadow")
def stop_shadow(model_id: str, request: Request) -> dict[str, Any]:
    return _shadow(request, model_id, False)


def _shadow(request: Request, model_id: str, on: bool) -> dict[str, Any]:
    try:
        return model_dict(change_shadow(_platform(request), model_id, on))
    except PromotionError as exc:
        raise HttpError(exc.status, str(exc)) from None


@router.post("/champion")
def promote_champion(body: ChampionRequest, request: Request, actor: str = Depends(admin_actor)) -> Any:
    platform = _platform(request)
    _detector(body.detector)
    with platform.sessions() as session, session.begin():
        try:
            result = promote(session, body.detector, body.model_id, reason=body.reason, actor=actor,
                             force=body.force, policy=_policy(platform))
        except PromotionError as exc:
            raise HttpError(exc.status, str(exc)) from None
        payload = result.as_dict()
        champion = session.get(tables.Model, body.model_id) if result.accepted else None
    if champion is not None:
        release_queue(platform, champion)  # a promoted challenger stops receiving shadow traffic
    if not result.accepted:
        failed = [{"field": name, "message": "gate failed"} for name, g in payload["gates"].items() if not g["passed"]]
        raise HttpError(409, "promotion refused by the gates (recorded in the audit trail); "
                             "use force with a reason to override", failed)
    return payload


@router.post("/champion/rollback")
def rollback_champion(body: RollbackRequest, request: Request, actor: str = Depends(admin_actor)) -> Any:
    _detector(body.detector)
    with _platform(request).sessions() as session, session.begin():
        result = rollback(session, body.detector, reason=body.reason, actor=actor)
        payload = result.as_dict()
    if not result.accepted:
        raise HttpError(409, "no earlier champion to roll back to (the attempt is recorded)")
    return payload


@router.get("/promotions")
def promotions(request: Request, detector: str | None = None) -> dict[str, Any]:
    query = select(tables.Promotion).order_by(tables.Promotion.id.desc())
    if detector is not None:
        query = query.where(tables.Promotion.detector == _detector(detector))
    with _platform(request).sessions() as session:
        return {"promotions": [promotion_dict(p) for p in session.scalars(query)]}


def _current(request: Request, detector: str, fetch, render, what: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with _platform(request).sessions() as session:
        row = fetch(session, _detector(detector))
        if row is None:
            raise HttpError(404, f"no {what} for {detector!r}")
        return render(row)


@router.get("/detectors/{detector}/strategy")
def get_strategy(detector: str, request: Request) -> dict[str, Any]:
    return _current(request, detector, config_repo.current_strategy, _strategy_dict, "strategy")


@router.put("/detectors/{detector}/strategy")
def put_strategy(detector: str, body: StrategyInput, request: Request, actor: str = Depends(admin_actor)) -> Any:
    with _platform(request).sessions() as session, session.begin():
        row = config_repo.add_strategy(session, _detector(detector), body.review_threshold, body.decline_threshold,
                                       note=body.note, actor=actor)
        return _strategy_dict(row)


def _strategy_dict(row: tables.Strategy) -> dict[str, Any]:
    return {"detector": row.detector, "version": row.version, "review_threshold": row.review_threshold,
            "decline_threshold": row.decline_threshold, "note": row.note, "created_by": row.created_by,
            "created_at": row.created_at.isoformat()}


@router.get("/detectors/{detector}/rules")
def get_rules(detector: str, request: Request) -> dict[str, Any]:
    return _current(request, detector, config_repo.current_rules, _rules_dict, "rules")


@router.put("/detectors/{detector}/rules")
def put_rules(detector: str, body: RuleSetInput, request: Request, actor: str = Depends(admin_actor)) -> Any:
    platform = _platform(request)
    try:
        stored = to_stored(get_detector(_detector(detector)), body, platform.hasher)
    except RulesError as exc:
        raise HttpError(422, str(exc), [{"field": "rules", "message": str(exc)}]) from None
    with platform.sessions() as session, session.begin():
        return _rules_dict(config_repo.add_rules(session, detector, stored, note=body.note, actor=actor))


def _rules_dict(row: tables.RuleSet) -> dict[str, Any]:
    return {"detector": row.detector, "version": row.version, "rules": public_view(row.body), "note": row.note,
            "created_by": row.created_by, "created_at": row.created_at.isoformat()}
