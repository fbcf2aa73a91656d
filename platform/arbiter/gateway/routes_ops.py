"""Operations: `/healthz`, `/readyz`, `/metrics`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from arbiter.gateway import metrics
from arbiter.insights.operations import Operations
from models.detectors import DETECTORS

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, response: Response) -> dict[str, Any]:
    """Ready when the database answers, every served detector (ARBITER_SERVED_DETECTORS; all by
    default) has a champion loaded and no bundle was refused
    for not matching its registration (an incident: the last good champion still serves); the broker
    is reported."""
    platform, state = request.app.state.platform, request.app.state.serving
    checks: dict[str, Any] = {"database": platform.database_status()}
    champions = {name: (s.champion.model_id if s.champion else None) for name, s in state.snapshot.detectors.items()}
    checks["champions"] = champions
    checks["state_error"] = state.last_error
    checks["broker"] = request.app.state.fanout.status()  # reported, never a reason to refuse traffic
    problems = [] if checks["database"] == "ok" else ["database unreachable"]
    served = platform.settings.served  # ARBITER_SERVED_DETECTORS: the others need no champion here
    problems += [f"no champion for {name}" for name, model in champions.items()
                 if model is None and (served is None or name in served)]
    problems += [f"ARBITER_SERVED_DETECTORS names an unknown detector {name!r}"
                 for name in sorted((served or set()) - set(champions)) if champions]
    problems += [f"refused the bundle of {model}: it does not match its registered digest" for model in state.refused]
    if not champions:
        problems.append("serving state not loaded yet")
    response.status_code = 200 if not problems else 503
    return {"status": "ready" if not problems else "not ready", "problems": problems, "checks": checks}


@router.get("/metrics")
def prometheus(request: Request) -> Response:
    """Prometheus exposition."""
    request.app.state.fanout.publisher.update_gauges()
    metrics.CHAMPION.clear()
    for name, s in request.app.state.serving.snapshot.detectors.items():
        if s.champion:
            metrics.CHAMPION.labels(name, s.champion.model_id).set(1)
    served = request.app.state.platform.settings.served or DETECTORS.keys()
    for name in served:
        state = request.app.state.serving.snapshot.detectors.get(name)
        metrics.CHAMPION_LOADED.labels(name).set(1 if state is not None and state.champion else 0)
    metrics.REFUSED_BUNDLES.clear()
    for model_id in request.app.state.serving.refused:
        metrics.REFUSED_BUNDLES.labels(model_id).set(1)
    _operations_gauges(request.app.state.operations.get())
    payload, content_type = metrics.render()
    return Response(payload, media_type=content_type)


def _operations_gauges(operations: Operations | None) -> None:
    """The shadow windows' coverage and lag, and the latest drift, as the alert rules read them."""
    for gauge in (metrics.SHADOW_COVERAGE, metrics.SHADOW_LAG, metrics.DRIFT_PSI):
        gauge.clear()
    if operations is None:  # the database did not answer: no figures rather than stale ones
        return
    for window in operations.shadow:
        metrics.SHADOW_COVERAGE.labels(window.detector, window.model_id).set(window.coverage)
        metrics.SHADOW_LAG.labels(window.detector, window.model_id).set(window.lag_seconds)
    for drift in operations.drift:
        metrics.DRIFT_PSI.labels(drift.detector, drift.model_id, drift.kind, drift.variable).set(drift.psi)
