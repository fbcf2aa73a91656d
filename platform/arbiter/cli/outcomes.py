"""`arbiter outcomes import FILE`: labels from a CSV file (application_id, is_fraud, observed_at)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from arbiter.cli.platform import platform_for_command

COLUMNS = ("application_id", "is_fraud", "observed_at")


@click.group("outcomes")
def outcomes() -> None:
    """Confirmed labels (fraud or not), arriving after the decision."""


@outcomes.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_outcomes(file: Path) -> None:
    """Import FILE (CSV with a header: application_id,is_fraud,observed_at); idempotent.

    is_fraud is true/false (or 1/0, yes/no); observed_at is ISO 8601 (naive times are UTC).
    The whole file is checked before anything is stored: one bad line stores nothing."""
    from arbiter.insights.outcomes import import_outcomes, parse_label

    labels = []
    with file.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise click.ClickException(f"{file}: the header must name {', '.join(COLUMNS)} (missing: "
                                       f"{', '.join(missing)})")
        for line, row in enumerate(reader, start=2):
            label, problems = parse_label({k: row[k] for k in COLUMNS}, "", text_flags=True)
            if problems:
                raise click.ClickException(f"{file}, line {line}: {problems[0]['field']} {problems[0]['message']}")
            labels.append(label)
    if not labels:
        raise click.ClickException(f"{file} holds no outcomes")
    with platform_for_command() as platform, click.progressbar(
            length=len(labels), label="importing outcomes", file=sys.stderr) as bar:
        s = import_outcomes(platform, labels, source=f"import:{file.name}"[:64], progress=bar.update)
    click.echo(f"{s.received} outcomes: {s.inserted} new, {s.updated} replaced an earlier label, {s.unchanged} "
               f"unchanged, {s.stale} older than the label on record, {s.unknown} for unknown applications"
               + (f" (e.g. {', '.join(s.unknown_ids[:5])})" if s.unknown_ids else ""))
