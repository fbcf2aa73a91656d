"""The composed platform for the length of one command."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from arbiter.bootstrap import Platform


@contextmanager
def platform_for_command() -> Iterator[Platform]:
    """`bootstrap()` from the environment's settings, closed when the command is done. (Imported
    here, not at the top: `arbiter --help` should not load the database and broker layers.)"""
    from arbiter.bootstrap import bootstrap

    platform = bootstrap()
    try:
        yield platform
    finally:
        platform.close()


def cli_actor(platform: Platform, *roles: str) -> str:
    """Who a state-changing command acts as: the principal whose token is in `ARBITER_TOKEN`, which
    must hold one of `roles` (one line and exit 1 otherwise); without a token, the operating-system
    user on this host, visibly so (`cli:<user>`: someone who can reach the database directly)."""
    from arbiter.governance.principals import authenticate

    token = platform.settings.token
    if token is None or not token.get_secret_value().strip():
        try:
            return f"cli:{getpass.getuser()}"
        except (KeyError, OSError):
            return "cli"
    bootstrap = platform.settings.admin_token
    principal = authenticate(platform, token.get_secret_value().strip(),
                             bootstrap.get_secret_value() if bootstrap else None)
    if principal is None:
        raise click.ClickException("ARBITER_TOKEN is not a valid token (unknown or revoked)")
    if roles and not principal.has_any(roles):
        raise click.ClickException(f"this needs the role {' or '.join(roles)}; {principal.name} has "
                                   f"{', '.join(sorted(principal.roles))}")
    return principal.name
