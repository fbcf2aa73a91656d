"""`/v1`: scoring (single and batch)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from fastapi import APIRouter, Request

from arbiter.gateway.auth import check_api_key
from arbiter.gateway.http import BATCH_LIMIT, HttpError, read_json
from arbiter.gateway.metrics import LATENCY, REQUESTS
from arbiter.serving.scoring import Scorer, check_envelope

MAX_BATCH = 1000
SERVED_BY = {"X-Served-By": str(os.getpid())}  # which worker process answered (operations, tests)
router = APIRouter(prefix="/v1", tags=["scoring"])

SCORE_EXAMPLE = {"application_id": "app-42", "data": {"Time": 0.0, "V1": -1.36, "Amount": 149.62}}
# The single-application call is answered by the fast path (fast_path.py) before FastAPI routes
# anything, so it has no FastAPI route; this is its entry in /openapi.json.
SCORE_OPERATION = {
    "tags": ["scoring"], "summary": "Score", "operationId": "score_v1_detectors__detector__score_post",
    "description": "Score one application with the champion: `{\"application_id\"?, \"data\": {...}}`. "
                   "422 names each bad field; 404 unknown detector; 413 body over 64 KiB; 503 no champion.",
    "parameters": [{"name": "detector", "in": "path", "required": True, "schema": {"type": "string"}}],
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object", "required": ["data"], "properties": {
            "application_id": {"type": "string", "maxLength": 128}, "data": {"type": "object"}}},
        "example": SCORE_EXAMPLE}}},
    "responses": {"200": {"description": "application_id, detector, score, decision, reasons, explanation "
                                         "([{feature, contribution, text}] for a model's decision), model, "
                                         "strategy_version, rules_version, elapsed_ms"},
                  **{code: {"description": what} for code, what in (
                      ("401", "a valid X-API-Key is required"), ("404", "unknown detector"),
                      ("413", "body too large"), ("422", "invalid body; errors name each field"),
                      ("503", "no champion loaded"))}},
}


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
