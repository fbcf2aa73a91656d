"""Errors for problems a user can fix, each said in one line.

`status` is the HTTP status an error maps to (the gateway's one mapping, `gateway/http.py`);
the CLI prints the message and exits 1. `errors` names the fields at fault, when there are any.
"""

from __future__ import annotations


class ArbiterError(Exception):
    """A request or a command the platform refuses, with a message for the person who sent it."""

    status = 400

    def __init__(self, message: str, errors: list[dict[str, str]] | None = None, *, status: int | None = None
                 ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        if status is not None:
            self.status = status


class NotFound(ArbiterError):
    """What the request names does not exist (an unknown model or detector)."""

    status = 404


class Conflict(ArbiterError):
    """The request cannot be carried out in the current state (refused gates, a champion shadowed)."""

    status = 409


class Invalid(ArbiterError):
    """The input is malformed or refused; `errors` names the fields."""

    status = 422


class Unavailable(ArbiterError):
    """Something the request needs is not there now (no champion, the broker unreachable)."""

    status = 503


class RegistrationError(Invalid):
    """A model bundle was refused; nothing was written."""
