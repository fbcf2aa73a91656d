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
from models.detectors import DETECTORS
from models.schema import Detector

MAX_BATCH = 1000
SERVED_BY = {"X-Served-By": str(os.getpid())}  # which worker process answered (operations, tests)
router = APIRouter(prefix="/v1", tags=["scoring"])

ERRORS = {"type": "object", "required": ["detail"], "properties": {
    "detail": {"type": "string"},
    "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"], "properties": {
        "field": {"type": "string"}, "message": {"type": "string"}}}}}}
RESULT = {"type": "object", "required": ["application_id", "detector", "score", "decision", "reasons", "model",
                                         "strategy_version", "rules_version", "elapsed_ms"], "properties": {
    "application_id": {"type": "string"},
    "detector": {"type": "string"},
    "score": {"type": ["number", "null"], "description": "the champion's score; null when a rule decided"},
    "decision": {"type": "string", "enum": ["approve", "review", "decline"]},
    "reasons": {"type": "array", "items": {"type": "string"}},
    "explanation": {"type": ["array", "null"], "items": {"type": "object", "required": ["feature", "contribution"],
                                                          "properties": {"feature": {"type": "string"},
                                                                         "contribution": {"type": "number"},
                                                                         "text": {"type": "string"}}}},
    "model": {"type": ["object", "null"], "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                                                         "version": {"type": "integer"}}},
    "strategy_version": {"type": ["integer", "null"]},
    "rules_version": {"type": ["integer", "null"]},
    "elapsed_ms": {"type": "number"}}}
# printable ASCII: a subset of what the gateway takes (any printable string), so clients stay portable
APPLICATION_ID = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[\\x20-\\x7e]+$"},
                            {"type": "null"}],
                  "description": "the caller's id of the application (generated when absent or null)"}
REFUSALS = (("401", "a valid X-API-Key is required (when ARBITER_API_KEYS is set)"),
            ("413", "body too large"), ("422", "invalid body; `errors` names each field"),
            ("503", "no champion loaded for this detector"))


def _envelope(detector: Detector) -> dict[str, Any]:
    return {"type": "object", "required": ["data"], "additionalProperties": False,
            "properties": {"application_id": APPLICATION_ID, "data": detector.data_schema()}}


def _operation(detector: Detector, batch: bool) -> dict[str, Any]:
    envelope = _envelope(detector)
    body = ({"type": "object", "required": ["applications"], "additionalProperties": False, "properties": {
        "applications": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": envelope}}}
        if batch else envelope)
    answer = {"type": "object", "required": ["results"], "properties": {"results": {"type": "array", "items": RESULT}}}
    return {
        "tags": ["scoring"], "summary": f"Score {'up to 1,000 ' if batch else 'one '}{detector.name} application"
                                       f"{'s' if batch else ''}",
        "operationId": f"score{'_batch' if batch else ''}_{detector.name.replace('-', '_')}",
        "description": f"{detector.description} Rules first, then the champion; the decision follows the "
                      "detector's strategy in force. 422 names each field that is not as described here.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {"200": {"description": "the decision" + ("s, in order" if batch else ""), "content": {
            "application/json": {"schema": answer if batch else RESULT}}},
            **{code: {"description": what, "content": {"application/json": {"schema": ERRORS}}}
               for code, what in REFUSALS}},
    }


def detector_operations() -> dict[str, dict[str, Any]]:
    """/openapi.json's scoring paths, one pair per declared detector, its fields, types and bounds in the
    request body (from the detector's declaration, as validation reads it), the answers described."""
    paths: dict[str, dict[str, Any]] = {}
    for name, detector in sorted(DETECTORS.items()):
        paths[f"/v1/detectors/{name}/score"] = {"post": _operation(detector, batch=False)}
        paths[f"/v1/detectors/{name}/score:batch"] = {"post": _operation(detector, batch=True)}
    return paths


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


@router.post("/detectors/{detector}/score:batch", include_in_schema=False)  # per detector: detector_operations
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
