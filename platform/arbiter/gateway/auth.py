"""API keys for /v1 and the admin bearer token, compared in constant time."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable

from fastapi import Depends, Request

from arbiter.domain.principals import Principal
from arbiter.gateway.http import HttpError
from arbiter.governance.principals import any_principal, authenticate


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


def admin_principal(request: Request) -> Principal:
    """The principal a bearer token authenticates: 401 (none given), 403 (unknown or revoked),
    503 (no ARBITER_ADMIN_TOKEN and no principal: admin is off). Never a header the client names."""
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise HttpError(401, "Authorization: Bearer <token> is required")
    platform, bootstrap = request.app.state.platform, request.app.state.admin_token
    principal = authenticate(platform, given.strip(), bootstrap)
    if principal is None:
        if not bootstrap and not any_principal(platform):
            raise HttpError(503, "admin is disabled: set ARBITER_ADMIN_TOKEN or add a principal "
                                 "(arbiter principals add)")
        raise HttpError(403, "the bearer token is not valid (unknown or revoked)")
    return principal


def reader(request: Request) -> str | None:
    """Who reads the dashboard: anyone while no principal is configured (no ARBITER_ADMIN_TOKEN and
    no principal: development); otherwise a principal with any role, by `Authorization: Bearer
    <token>` or HTTP Basic with the token as the password (what a browser can send: it asks once)."""
    platform, bootstrap = request.app.state.platform, request.app.state.admin_token
    if not bootstrap and not any_principal(platform):
        return None
    token = _presented_token(request.headers.get("authorization", ""))
    principal = authenticate(platform, token, bootstrap) if token else None
    if principal is None:
        raise HttpError(401, "the dashboard needs a principal's token (any role, e.g. viewer): HTTP Basic with "
                             "the token as the password, or Authorization: Bearer <token>",
                        challenge='Basic realm="arbiter", charset="UTF-8"')
    return principal.name


def _presented_token(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            _, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return password.strip() or None
    return None


AUTHENTICATED = Depends(admin_principal)  # a route's principal: `principal: Principal = AUTHENTICATED`


def requires(*roles: str) -> Callable[..., str]:
    """A route dependency: the acting principal's name, or 403 naming the role it lacks."""

    def actor(principal: Principal = AUTHENTICATED) -> str:
        return require(principal, roles)

    return actor


def require(principal: Principal, roles: tuple[str, ...], why: str = "") -> str:
    """`principal`'s name if it holds one of `roles`; otherwise 403 naming them (and `why`)."""
    if not principal.has_any(roles):
        raise HttpError(403, f"this needs the role {' or '.join(roles)}{why}; {principal.name} has "
                             f"{', '.join(sorted(principal.roles))}")
    return principal.name
