"""`arbiter replay FILE`: stream a CSV to a gateway in time order, with delayed labels."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from models.detectors import DETECTORS

if TYPE_CHECKING:
    from arbiter.cli.replay_engine import ReplayOptions, ReplayResult


@click.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--detector", required=True, type=click.Choice(sorted(DETECTORS)))
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="the gateway")
@click.option("--rate", type=click.FloatRange(min=0.1), help="requests per second (a fixed pace)")
@click.option("--speed", type=click.FloatRange(min=1e-6),
              help="pace of the file's own time column times X (60: an hour of data in a minute)")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 512),
              help="requests in flight at most")
@click.option("--label-delay", default=0.0, show_default=True, type=click.FloatRange(min=0.0),
              help="seconds after its answer before an application's label is posted to /v1/outcomes")
@click.option("--no-labels", is_flag=True, help="post no labels, even where the file has them")
@click.option("--limit", type=click.IntRange(min=1), help="replay only the first N rows (in time order)")
@click.option("--api-key", default=lambda: os.environ.get("ARBITER_API_KEY"), show_default="$ARBITER_API_KEY",
              help="sent as X-API-Key when the gateway requires one")
def replay(file: Path, detector: str, url: str, rate: float | None, speed: float | None, concurrency: int,
           label_delay: float, no_labels: bool, limit: int | None, api_key: str | None) -> None:
    """Replay FILE (a CSV in the detector's shape, e.g. creditcard.csv) to the gateway at --url.

    Rows go out in the order of the detector's time column, at --rate, at --speed times the
    recorded pace, or (neither) as fast as --concurrency allows. Where the file has the label
    column (Class, is_fraud), each label is posted --label-delay seconds after its answer."""
    from tqdm import tqdm

    from arbiter.cli.replay_engine import ReplayOptions, read_rows
    from arbiter.cli.replay_engine import replay as run_replay
    from models.detectors import get_detector

    if rate and speed:
        raise click.ClickException("give --rate or --speed, not both")
    rows = read_rows(file, get_detector(detector), limit)
    if not rows:
        raise click.ClickException(f"{file} holds no rows")
    options = ReplayOptions(url, detector, rate, speed, concurrency, None if no_labels else label_delay, api_key)
    with tqdm(total=len(rows), desc=f"replaying {detector}", unit="req", dynamic_ncols=True) as bar:
        result = asyncio.run(run_replay(rows, options, bar.update))
    for line in summary_lines(result, options):
        click.echo(line)
    if result.ok == 0:
        kind, example = next(iter(result.error_examples.items()), ("", "no answer"))
        raise click.ClickException(f"no application was scored by {url}: {kind} {example}".strip())


def summary_lines(result: ReplayResult, options: ReplayOptions) -> list[str]:
    """What a replay achieved, for people: rate, latency percentiles, errors, decisions, labels."""
    target = (f" (target {options.rate:g}/s)" if options.rate else
              f" (at {options.speed:g}x the file's pace)" if options.speed else " (as fast as allowed)")
    lines = [f"replayed {result.sent:,} applications to {options.url} in {result.elapsed:.1f} s: "
             f"{result.achieved_rate:,.1f}/s achieved{target}, concurrency {options.concurrency}"]
    if result.latencies_ms:
        p = {q: result.percentile(q) for q in (50, 95, 99, 100)}
        lines.append(f"latency ms: p50 {p[50]:.1f}  p95 {p[95]:.1f}  p99 {p[99]:.1f}  max {p[100]:.1f}")
    errors = ", ".join(f"{kind}: {n:,}" for kind, n in result.errors.most_common()) or "none"
    lines.append(f"answers: {result.ok:,} scored; errors: {errors}")
    for kind, example in result.error_examples.items():
        lines.append(f"  e.g. {kind}: {example.splitlines()[0][:200] if example else ''}")
    if result.decisions:
        lines.append("decisions: " + ", ".join(f"{d} {n:,}" for d, n in sorted(result.decisions.items())))
    if options.label_delay is not None:
        label_errors = ", ".join(f"{k}: {n:,}" for k, n in result.label_errors.items())
        lines.append(f"labels: {result.labels_posted:,} posted {options.label_delay:g} s after their answers "
                     f"({result.labels_fraud:,} fraud, {result.labels_unknown:,} unknown to the platform)"
                     + (f"; failed: {label_errors}" if label_errors else ""))
    return lines
