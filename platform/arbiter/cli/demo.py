"""`arbiter demo`."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("demo")
@click.option("--rows", default=20_000, show_default=True, type=click.IntRange(2_000, 5_000_000),
              help="synthetic rows per detector to train on")
@click.option("--replay", "replay_rows", default=2_000, show_default=True, type=click.IntRange(100, 1_000_000),
              help="newer synthetic rows per detector replayed through the gateway")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--workdir", default=Path("var/demo"), show_default=True, type=click.Path(path_type=Path))
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="the gateway's port (a free one if taken; 0: any)")
@click.option("--label-delay", default=2.0, show_default=True, type=click.FloatRange(min=0.0),
              help="seconds between an answer and its label")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="keep serving after the report until Ctrl-C")
@click.option("--h2o/--no-h2o", default=None,
              help="train an h2o-gbm challenger on a local H2O  [default: when Java runs]")
def demo(rows: int, replay_rows: int, seed: int, workdir: Path, port: int, label_delay: float, serve: bool,
         h2o: bool | None) -> None:
    """Run the whole platform end to end on synthetic data: train, register, promote, shadow,
    replay with delayed labels, report; then keep serving the gateway and its dashboard."""
    from arbiter.cli.demo_run import DemoOptions, run_demo

    run_demo(DemoOptions(rows, replay_rows, seed, workdir, port, label_delay, serve, h2o))
