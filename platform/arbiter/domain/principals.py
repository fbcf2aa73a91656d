"""Principals (people and systems that act on Arbiter) and their roles, as pure code.

Tokens are 256 random bits, shown once; only their SHA-256 is stored (a token that long needs no
slow hash: it cannot be guessed, only stolen, and the hash alone does not authenticate).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

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
