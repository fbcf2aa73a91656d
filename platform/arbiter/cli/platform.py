"""The composed platform for the length of one command."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

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


def cli_actor() -> str:
    """Who a state-changing command is recorded as: the operating-system user, visibly so (`cli:<user>`)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
