"""`arbiter principals add|list|revoke`: who may act on Arbiter, and with which roles."""

from __future__ import annotations

import click

from arbiter.cli.platform import cli_actor, platform_for_command
from arbiter.domain.principals import ROLES


@click.group("principals")
def principals() -> None:
    """People and systems that act on Arbiter's admin API, with their roles."""


@principals.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="repeat for several")
def add(name: str, roles: tuple[str, ...]) -> None:
    """Create NAME and print its token: the only line on stdout, shown this once (only its hash is kept)."""
    from arbiter.governance.principals import add_principal

    with platform_for_command() as platform:
        token = add_principal(platform, name, list(roles), actor=cli_actor(platform, "operator"))
    click.echo(token)
    click.echo(f"{name}: {', '.join(sorted(set(roles)))}; keep the token now, it cannot be shown again", err=True)


@principals.command("list")
def list_command() -> None:
    """Every principal, its roles, and whether it is revoked."""
    from tabulate import tabulate

    from arbiter.governance.principals import list_principals

    with platform_for_command() as platform:
        rows = list_principals(platform)
    if not rows:
        click.echo("no principals (ARBITER_ADMIN_TOKEN, when set, is the bootstrap principal admin)")
        return
    click.echo(tabulate([[r["name"], ", ".join(r["roles"]), r["created_by"], r["created_at"][:19],
                          f"revoked {r['revoked_at'][:19]} by {r['revoked_by']}" if r["revoked_at"] else "active"]
                         for r in rows], headers=["name", "roles", "created by", "created", "state"],
                        tablefmt="simple", disable_numparse=True))


@principals.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke NAME's token: refused at once by every gateway process."""
    from arbiter.governance.principals import revoke_principal

    with platform_for_command() as platform:
        revoke_principal(platform, name, actor=cli_actor(platform, "operator"))
    click.echo(f"{name} revoked")
