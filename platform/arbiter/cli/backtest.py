"""`arbiter backtest`: score a registered model on stored applications, apart from shadow scores."""

from __future__ import annotations

import click

from arbiter.cli.platform import cli_actor, platform_for_command


@click.command("backtest")
@click.argument("model_id")
@click.option("--since", default="30d", show_default=True, help="ISO date or a span back from now (30d, 12h)")
@click.option("--batch", type=click.IntRange(1, 100_000), default=2_000, show_default=True,
              help="applications scored and committed at once (bounds the memory)")
def backtest(model_id: str, since: str, batch: int) -> None:
    """Score MODEL_ID on its detector's stored applications since --since (resumable: a run continues
    after the last application it stored); the evidence counts it as MODEL_ID~backtest."""
    from tqdm import tqdm

    from arbiter.insights.backtest import run_backtest
    from arbiter.insights.reporting import parse_since

    moment = parse_since(since)
    bars: list[tqdm] = []  # opened at the first batch: a refusal before it prints its one line alone

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(desc=f"backtest {model_id}", unit="app", total=total, dynamic_ncols=True, leave=True))
        bars[0].total = total
        bars[0].update(done - bars[0].n)

    with platform_for_command() as platform:
        cli_actor(platform, "strategist", "data-scientist")
        try:
            result = run_backtest(platform, model_id, moment, batch=batch, progress=progress)
        finally:
            for bar in bars:
                bar.close()
    rate = result.scored / result.seconds if result.seconds else 0.0
    resumed = f", resumed after {result.resumed_from.isoformat()}" if result.resumed_from else ""
    click.echo(f"{model_id}: scored {result.scored:,} applications in {result.seconds:.1f} s ({rate:,.0f}/s)"
               f"{resumed}; {result.skipped} skipped as invalid, {result.unrecorded} stored before derivations were "
               f"recorded; compare it as {model_id}~backtest (arbiter report)")
