"""Principals (people and systems that act on Arbiter) and their roles, as pure code.

Tokens are 256 random bits, shown once; only their SHA-256 is stored (a token that long needs no
slow hash: it cannot be guessed, only stolen, and the hash alone does not authenticate).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from arbiter.domain.errors import Conflict

ROLES = ("data-scientist", "governance", "strategist", "operator", "viewer")
BOOTSTRAP = "admin"  # ARBITER_ADMIN_TOKEN's principal: every role, so a fresh install can create the others


@dataclass(frozen=True)
class Principal:
    """Who is acting, and what they may do."""

    name: str
    roles: frozenset[str]

    def has_any(self, roles: tuple[str, ...]) -> bool:
        return bool(self.roles & set(roles))


def new_token() -> str:
    return "arb_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


PENDING = "pending"
OUTCOMES = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}


def check_decision(what: str, status: str | None, requester: str, actor: str, action: str) -> str:
    """Four eyes on a request (a promotion request, a proposal): the status `action` (approve,
    reject, withdraw) gives it. Only a pending one is decided; only its requester withdraws it, and
    never approves or rejects it (409)."""
    if status != PENDING:
        raise Conflict(f"{what} is {status or 'decided'}: only a pending one can be {OUTCOMES[action]}")
    if action == "withdraw" and actor != requester:
        raise Conflict(f"only {requester}, who asked for {what}, can withdraw it")
    if action != "withdraw" and actor == requester:
        raise Conflict(f"four eyes: {actor} asked for {what} and cannot {action} it (withdraw it instead)")
    return OUTCOMES[action]
