"""API keys for /v1 and the admin bearer token, compared in constant time."""

from __future__ import annotations

import hmac

from fastapi import Request

from arbiter.gateway.http import HttpError


def matches_any(given: str, secrets: frozenset[str] | tuple[str, ...]) -> bool:
    found = False
    for secret in secrets:  # no early exit: the time taken does not say which key came close
        found |= hmac.compare_digest(given.encode(), secret.encode())
    return found


def check_key(given: str | None, keys: frozenset[str]) -> None:
    """No keys configured: open (development). Otherwise `given` (the X-API-Key header) must be one of them."""
    if keys and (not given or not matches_any(given, keys)):
        raise HttpError(401, "a valid X-API-Key header is required")


def check_api_key(request: Request, keys: frozenset[str]) -> None:
    check_key(request.headers.get("x-api-key"), keys)


def check_admin(request: Request, token: str | None) -> str:
    """The admin actor, or 503 (no token configured), 401 (none given), 403 (wrong)."""
    if not token:
        raise HttpError(503, "admin is disabled: ARBITER_ADMIN_TOKEN is not set")
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise HttpError(401, "Authorization: Bearer <token> is required")
    if not matches_any(given.strip(), (token,)):
        raise HttpError(403, "the bearer token is not valid")
    return request.headers.get("x-actor", "admin")[:128] or "admin"
