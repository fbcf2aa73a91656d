"""Principals: add (the token is returned once), list, revoke, and authenticate a bearer token.

Authentication reads the database on every admin call (they are rare), so a revocation takes
effect at once on every gateway process. `ARBITER_ADMIN_TOKEN`, when set, is the bootstrap
principal `admin` with every role.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from arbiter.bootstrap import Platform
from arbiter.domain.errors import Conflict, Invalid, NotFound
from arbiter.domain.principals import BOOTSTRAP, ROLES, Principal, new_token, same_hash, token_hash
from arbiter.store import audit_repo, tables

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def add_principal(platform: Platform, name: str, roles: list[str], *, actor: str) -> str:
    """A new principal; its token, which is not stored and cannot be shown again."""
    if not NAME.match(name) or name == BOOTSTRAP:
        raise Invalid(f"name {name!r}: lower-case letters, digits, '.', '_' or '-', at most 64, not {BOOTSTRAP!r}",
                      [{"field": "name", "message": "invalid name"}])
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise Invalid(f"roles: {', '.join(unknown) or 'none given'}; each must be one of {', '.join(ROLES)}",
                      [{"field": "roles", "message": "unknown role" if unknown else "at least one role"}])
    token = new_token()
    with platform.sessions() as session, session.begin():
        if session.get(tables.PrincipalRow, name) is not None:
            raise Conflict(f"a principal named {name!r} exists already (names are never reused)")
        session.add(tables.PrincipalRow(name=name, roles=sorted(set(roles)), token_hash=token_hash(token),
                                        created_by=actor))
        audit_repo.append(session, actor, "principal.added", name, {"roles": sorted(set(roles))})
    return token


def revoke_principal(platform: Platform, name: str, *, actor: str) -> dict[str, Any]:
    with platform.sessions() as session, session.begin():
        row = session.get(tables.PrincipalRow, name)
        if row is None:
            raise NotFound(f"no principal named {name!r}")
        if row.revoked_at is not None:
            raise Conflict(f"{name!r} was revoked already")
        row.revoked_at, row.revoked_by = datetime.now(UTC), actor
        audit_repo.append(session, actor, "principal.revoked", name, {"roles": row.roles})
        session.flush()
        return principal_dict(row)


def list_principals(platform: Platform) -> list[dict[str, Any]]:
    with platform.sessions() as session:
        return [principal_dict(r) for r in session.scalars(select(tables.PrincipalRow)
                                                            .order_by(tables.PrincipalRow.name))]


def principal_dict(row: tables.PrincipalRow) -> dict[str, Any]:
    return {"name": row.name, "roles": list(row.roles), "created_by": row.created_by,
            "created_at": row.created_at.isoformat(), "revoked_at": row.revoked_at.isoformat()
            if row.revoked_at else None, "revoked_by": row.revoked_by}


def authenticate(platform: Platform, token: str, bootstrap_token: str | None) -> Principal | None:
    """The principal holding `token` (None: no such token, or revoked)."""
    if bootstrap_token and same_hash(token_hash(token), token_hash(bootstrap_token)):
        return Principal(BOOTSTRAP, frozenset(ROLES))
    wanted = token_hash(token)
    with platform.sessions() as session:
        row = session.scalars(select(tables.PrincipalRow).where(tables.PrincipalRow.token_hash == wanted)).first()
    if row is None or row.revoked_at is not None or not same_hash(row.token_hash, wanted):
        return None
    return Principal(row.name, frozenset(row.roles))


def any_principal(platform: Platform) -> bool:
    """Whether a principal other than the bootstrap one exists (admin works without ARBITER_ADMIN_TOKEN)."""
    with platform.sessions() as session:
        return bool(session.scalar(select(func.count()).select_from(tables.PrincipalRow)))
