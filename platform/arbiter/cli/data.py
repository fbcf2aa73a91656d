"""`arbiter data synth`."""

from __future__ import annotations

from pathlib import Path

import click

from models.detectors import DETECTORS

CHUNK = 50_000


@click.group()
def data() -> None:
    """Synthetic data."""


@data.command("synth")
@click.option("--detector", required=True, type=click.Choice(sorted(DETECTORS)), help="which detector's shape")
@click.option("--rows", required=True, type=click.IntRange(1, 50_000_000), help="number of rows")
@click.option("--seed", default=0, show_default=True, type=int, help="same seed, same data")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="CSV file to write")
@click.option("--fraud-rate", type=click.FloatRange(0.0, 1.0), default=None,
              help="override the detector's realistic fraud rate (e.g. for small test sets)")
def synth(detector: str, rows: int, seed: int, out: Path, fraud_rate: float | None) -> None:
    """Write seeded, deterministic synthetic data for DETECTOR to a CSV file."""
    from tqdm import tqdm

    from models.synth import synthesize

    with tqdm(total=rows, desc=f"synthesizing {detector}", unit="row", unit_scale=True) as bar:
        frame = synthesize(detector, rows, seed, fraud_rate)
        bar.set_description(f"writing {out.name}")
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="") as fh:
            for start in range(0, rows, CHUNK):
                part = frame.iloc[start : start + CHUNK]
                part.to_csv(fh, header=start == 0, index=False)
                bar.update(len(part))
    label = DETECTORS[detector].label
    click.echo(f"wrote {rows} rows to {out} ({int(frame[label].sum())} fraud, seed {seed})")
