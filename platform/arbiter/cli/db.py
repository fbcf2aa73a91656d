"""`arbiter db upgrade`."""

from __future__ import annotations

import click

from arbiter.cli.platform import platform_for_command


@click.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
def upgrade() -> None:
    """Create or migrate the tables and views to the latest revision."""
    with platform_for_command() as platform:
        revision = platform.upgrade_database()
    click.echo(f"database at revision {revision} ({platform.engine.url.render_as_string(hide_password=True)})")
