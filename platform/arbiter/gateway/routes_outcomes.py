"""`POST /v1/outcomes`: labels that arrive weeks after the decision."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from arbiter.gateway.auth import check_api_key
from arbiter.gateway.http import BATCH_LIMIT, HttpError, read_json
from arbiter.insights.outcomes import import_outcomes, parse_label

MAX_OUTCOMES = 10_000
router = APIRouter(prefix="/v1", tags=["outcomes"])
EXAMPLE = {"outcomes": [{"application_id": "app-42", "is_fraud": True, "observed_at": "2026-02-01T10:00:00Z"}]}


@router.post("/outcomes", openapi_extra={"requestBody": {"content": {"application/json": {"example": EXAMPLE}}}})
async def outcomes(request: Request) -> dict[str, Any]:
    """Record confirmed labels: `{"outcomes": [{"application_id", "is_fraud", "observed_at"}]}` (<= 10,000).

    Idempotent; a later label replaces an earlier one (both kept in `outcome_history`); labels for
    unknown applications are counted and listed (`unknown`, `unknown_ids`), not stored."""
    check_api_key(request, request.app.state.api_keys)
    body = await read_json(request, BATCH_LIMIT)
    items = body.get("outcomes") if isinstance(body, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_OUTCOMES:
        raise HttpError(422, "invalid request body",
                        [{"field": "outcomes", "message": f"must be a list of 1 to {MAX_OUTCOMES} outcomes"}])
    errors = [{"field": str(k)[:64], "message": "is not allowed"} for k in body if k != "outcomes"]
    labels = []
    for i, item in enumerate(items):
        label, problems = parse_label(item, f"outcomes.{i}.")
        errors.extend(problems)
        labels.append(label)
    if errors:
        raise HttpError(422, "invalid request body", errors[:100])
    return import_outcomes(request.app.state.platform, labels, source="api").as_dict()
