"""`arbiter retention apply`: drop raw rows past the retention window (the aggregates stay)."""

from __future__ import annotations

import click

from arbiter.cli.platform import cli_actor, platform_for_command


@click.group("retention")
def retention() -> None:
    """How long raw applications, decisions and shadow scores are kept."""


@retention.command("apply")
@click.option("--keep", metavar="N", help="months to keep, such as 13mo (default: the ARBITER_RETENTION setting)")
@click.option("--dry-run", is_flag=True, help="say what would be dropped, drop nothing")
def apply(keep: str | None, dry_run: bool) -> None:
    """Drop the months of raw rows older than the window (on Postgres whole monthly partitions; on
    SQLite the rows), and create the partitions of the months ahead. The views, report, dashboard
    and gates still count the dropped months from the evidence aggregates."""
    from arbiter.governance.retention import apply_retention

    with platform_for_command() as platform:
        result = apply_retention(platform, keep, dry_run=dry_run, actor=cli_actor(platform, "operator"))
    verb = "would drop" if dry_run else "dropped"
    click.echo(f"keeping raw rows from {result.cutoff.isoformat()}: {verb} {len(result.dropped)} partitions "
               f"and {result.deleted:,} rows outside them" + (f"; created {len(result.created)} partitions"
                                                               if result.created else ""))
    for name in result.dropped:
        click.echo(f"  {name}")
