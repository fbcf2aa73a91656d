"""`/v1`: scoring (single and batch)."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from fastapi import APIRouter, Request, Response

from arbiter.gateway.auth import check_api_key
from arbiter.gateway.http import BATCH_LIMIT, SINGLE_LIMIT, HttpError, read_json
from arbiter.gateway.metrics import LATENCY, REQUESTS
from arbiter.scoring import Scorer, check_envelope

MAX_BATCH = 1000
SERVED_BY = {"X-Served-By": str(os.getpid())}  # which worker process answered (operations, tests)
router = APIRouter(prefix="/v1", tags=["scoring"])

SCORE_EXAMPLE = {"application_id": "app-42", "data": {"Time": 0.0, "V1": -1.36, "Amount": 149.62}}


def _scorer(request: Request) -> Scorer:
    return request.app.state.scorer


@cache
def _decided(detector: str, decision: str) -> Any:
    # labels() takes a lock and validates the values on every call; the child it returns never changes
    # (detectors are declared, decisions are three), so look each one up once
    return REQUESTS.labels(detector, decision)


@cache
def _timed(detector: str) -> Any:
    return LATENCY.labels(detector)


def observe(results: list[dict[str, Any]], detector: str) -> None:
    for r in results:
        _decided(detector, r["decision"]).inc()
    if results:
        _timed(detector).observe(results[0]["elapsed_ms"] / 1e3)


@router.post("/detectors/{detector}/score",
             openapi_extra={"requestBody": {"content": {"application/json": {"example": SCORE_EXAMPLE}}}})
async def score(detector: str, request: Request) -> Response:
    """Score one application with the champion: `{"application_id"?, "data": {...}}`."""
    check_api_key(request, request.app.state.api_keys)
    scorer = _scorer(request)
    scorer.detector_state(detector)  # 404 before reading the body
    app, errors = check_envelope(await read_json(request, SINGLE_LIMIT))
    if errors or app is None:
        raise HttpError(422, "invalid request body", errors)
    result = scorer.score(detector, [app])[0]
    observe([result], detector)
    return Response(json.dumps(result), media_type="application/json", headers=SERVED_BY)


@router.post("/detectors/{detector}/score:batch")
async def score_batch(detector: str, request: Request) -> dict[str, Any]:
    """Score up to 1,000 applications in one call: `{"applications": [...]}`."""
    check_api_key(request, request.app.state.api_keys)
    scorer = _scorer(request)
    scorer.detector_state(detector)
    body = await read_json(request, BATCH_LIMIT)
    items = body.get("applications") if isinstance(body, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise HttpError(422, "invalid request body",
                        [{"field": "applications", "message": f"must be a list of 1 to {MAX_BATCH} applications"}])
    extra = [k for k in body if k != "applications"]
    apps, errors = [], [{"field": str(k)[:64], "message": "is not allowed"} for k in extra]
    for i, item in enumerate(items):
        app, problems = check_envelope(item, where=f"applications.{i}.")
        errors.extend(problems)
        apps.append(app)
    if errors:
        raise HttpError(422, "invalid request body", errors)
    results = scorer.score(detector, apps, where="applications.")
    observe(results, detector)
    return {"results": results}
