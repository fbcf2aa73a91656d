"""Seeded, deterministic synthetic data for the shipped detectors."""

from __future__ import annotations

import pandas as pd

from models.synth.applications import synth_applications
from models.synth.transactions import synth_transactions

GENERATORS = {"card-applications": synth_applications, "card-transactions": synth_transactions}


def synthesize(detector: str, rows: int, seed: int, fraud_rate: float | None = None) -> pd.DataFrame:
    """`rows` synthetic rows for `detector`, identical for the same seed."""
    try:
        generator = GENERATORS[detector]
    except KeyError:
        raise ValueError(f"no synthesizer for detector {detector!r}") from None
    return generator(rows, seed=seed, fraud_rate=fraud_rate)


__all__ = ["GENERATORS", "synthesize"]
