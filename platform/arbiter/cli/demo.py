"""`arbiter demo`."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("demo")
@click.option("--rows", default=20_000, show_default=True, type=click.IntRange(2_000, 5_000_000),
              help="synthetic rows per detector")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--workdir", default=Path("var/demo"), show_default=True, type=click.Path(path_type=Path))
def demo(rows: int, seed: int, workdir: Path) -> None:
    """Run the platform end to end on synthetic data."""
    from arbiter.demo import run_demo

    run_demo(rows, seed, workdir)
