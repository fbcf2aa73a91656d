"""`arbiter db upgrade`."""

from __future__ import annotations

import click


@click.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
def upgrade() -> None:
    """Create or migrate the tables and views to the latest revision."""
    from arbiter.bootstrap import bootstrap

    platform = bootstrap()
    try:
        revision = platform.upgrade_database()
    finally:
        platform.close()
    click.echo(f"database at revision {revision} ({platform.engine.url.render_as_string(hide_password=True)})")
