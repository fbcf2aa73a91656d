"""`arbiter audit verify` and `arbiter audit export FILE`: the audit trail's hash chain checked, and copied out."""

from __future__ import annotations

from pathlib import Path

import click

from arbiter.cli.platform import platform_for_command


@click.group("audit")
def audit() -> None:
    """The governance audit trail (every registration, shadow change, promotion, rollback, strategy,
    rules and retention change, hash-chained)."""


@audit.command("verify")
def verify() -> None:
    """Recompute the hash chain: exit 0 with the number of events when it holds, 1 naming the first
    event that does not match."""
    from arbiter.governance.audit import verify_trail

    with platform_for_command() as platform:
        verdict = verify_trail(platform)
    if verdict.broken_at is not None:
        raise click.ClickException(f"audit trail broken: {verdict.reason}")
    click.echo(f"audit trail intact: {verdict.events:,} events")


@audit.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export(file: Path) -> None:
    """Write every event as a JSON line to FILE."""
    from arbiter.governance.audit import export_trail

    with platform_for_command() as platform:
        try:
            count = export_trail(platform, file)
        except OSError as exc:
            raise click.ClickException(f"cannot write {file}: {exc.strerror or exc}") from None
    click.echo(f"{count:,} events written to {file}")
