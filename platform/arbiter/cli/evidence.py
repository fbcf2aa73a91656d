"""`arbiter evidence rebuild`: recount the evidence aggregates from the raw tables."""

from __future__ import annotations

import sys

import click

from arbiter.cli.platform import platform_for_command
from models.detectors import DETECTORS


@click.group("evidence")
def evidence() -> None:
    """The aggregates the views, the report, the dashboard and the promotion gates read."""


@evidence.command("rebuild")
@click.option("--detector", type=click.Choice(sorted(DETECTORS)), help="one detector (default: all)")
@click.option("--since", "since_text", metavar="T",
              help="from the day of T on: ISO 8601 date/time, or a span back from now (7d, 12h)")
@click.option("--jobs", type=click.IntRange(1, 32), help="days recounted at once (default: one per CPU up to 4 on "
                                                          "Postgres, 1 on SQLite)")
def rebuild(detector: str | None, since_text: str | None, jobs: int | None) -> None:
    """Recount the aggregates from the stored applications, decisions, shadow scores and labels,
    one day per transaction (idempotent: run it again to resume or repair)."""
    from arbiter.insights.evidence import days_to_rebuild, default_jobs
    from arbiter.insights.evidence import rebuild as run_rebuild
    from arbiter.insights.reporting import parse_since

    since = parse_since(since_text) if since_text else None
    with platform_for_command() as platform:
        days = len(days_to_rebuild(platform, detector, since))
        if days == 0:
            raise click.ClickException("nothing to rebuild: no applications stored"
                                       + (f" for {detector}" if detector else ""))
        with click.progressbar(length=days, label="recounting days", file=sys.stderr) as bar:
            summary = run_rebuild(platform, detector, since, progress=bar.update, jobs=jobs or default_jobs(platform))
    click.echo(f"rebuilt {summary.days} days: {summary.scores:,} scores counted")
