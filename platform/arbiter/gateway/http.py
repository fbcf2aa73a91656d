"""Reading request bodies safely and answering errors in one shape.

Errors: `{"detail": "...", "errors": [{"field": "...", "message": "..."}]}`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from arbiter.domain.errors import ArbiterError
from models.errors import first_line

SINGLE_LIMIT = 64 * 1024
BATCH_LIMIT = 2 * 1024 * 1024


class HttpError(ArbiterError):
    """An answer only HTTP has (401, 413, a query parameter at fault): status given explicitly."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, str]] | None = None, *,
                 challenge: str = "Bearer") -> None:
        super().__init__(detail, errors, status=status)
        self.challenge = challenge  # a 401's WWW-Authenticate


def error_body(detail: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail}
    if errors:
        body["errors"] = errors
    return body


def error_answer(exc: ArbiterError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The one mapping of a refused request to HTTP (the fast path and FastAPI alike): status,
    body `{"detail", "errors"?}` and headers."""
    headers = {"WWW-Authenticate": getattr(exc, "challenge", "Bearer")} if exc.status == 401 else {}
    return exc.status, error_body(exc.message, exc.errors), headers


def error_response(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> JSONResponse:
    return JSONResponse(error_body(detail, errors), status_code=status)


def too_large(limit: int) -> HttpError:
    return HttpError(413, f"request body is larger than {limit // 1024} KiB")


def check_declared_length(declared: str | None, limit: int) -> None:
    """413 before reading when Content-Length already says the body is too large."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)


def parse_json(raw: bytes) -> Any:
    """The parsed body; 422 when it is empty or not JSON (NaN and Infinity are not JSON)."""
    if not raw:
        raise HttpError(422, "request body is empty; expected a JSON object",
                        [{"field": "body", "message": "is required"}])
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        message = first_line(exc, 200) if isinstance(exc, ValueError) else "nested too deeply"
        raise HttpError(422, "request body is not valid JSON", [{"field": "body", "message": message}]) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON number")


async def read_json(request: Request, limit: int) -> Any:
    """The parsed JSON body; 413 past `limit` bytes (checked while reading), 422 if not JSON."""
    check_declared_length(request.headers.get("content-length"), limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return parse_json(b"".join(chunks))
