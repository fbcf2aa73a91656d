"""Synthetic card transactions shaped like the Kaggle creditcard.csv file.

Calibrated on the real sample (`kaggle_calibration.json`): per-class means and spreads of
V1..V28 (whose variance falls with the index, as PCA components do), a log-normal Amount and
the hour-of-day shape, over 48 hours. Fraud comes in three kinds, so that it is learnable but
not trivial (a linear model cannot see the second kind):

- shifted (55%): pulled part of the way towards the real fraud centroid;
- magnitude (30%): ordinary except a few key components far out, in either direction;
- camouflaged (15%): barely different from legitimate traffic.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

PCA = [f"V{i}" for i in range(1, 29)]
KEY_COMPONENTS = [3, 9, 10, 11, 13, 16]  # V4, V10, V11, V12, V14, V17 (0-based)
SECONDS = 48 * 3600
DEFAULT_FRAUD_RATE = 0.00172


@cache
def calibration() -> dict:
    """The per-class statistics derived from the real sample by `models.synth.calibrate`."""
    return json.loads(Path(__file__).with_name("kaggle_calibration.json").read_text())


def _times(rng: np.random.Generator, n: int, weights: list[int]) -> np.ndarray:
    w = np.asarray(weights, float) + 1.0
    bins = rng.choice(len(w), size=n, p=w / w.sum())
    seconds_in_day = (bins + rng.random(n)) * 7200.0
    day = rng.integers(0, SECONDS // 86400, size=n)
    return np.floor(day * 86400.0 + seconds_in_day)


def _heavy_tailed(rng: np.random.Generator, n: int, std: np.ndarray, df: float = 6.0) -> np.ndarray:
    # Student-t scaled to the target variance: the real components have heavy tails.
    return rng.standard_t(df, size=(n, std.size)) * std * np.sqrt((df - 2) / df)


def _amounts(rng: np.random.Generator, n: int, stats: dict, small_share: float) -> np.ndarray:
    amount = np.expm1(rng.normal(stats["amount_log1p_mean"], stats["amount_log1p_std"], n))
    small = rng.random(n) < small_share  # card testing: tiny amounts
    amount = np.where(small, rng.choice([0.0, 1.0, 1.0, 0.99, 2.0], n), amount)
    amount = np.where(rng.random(n) < stats["amount_zero_share"], 0.0, amount)
    return np.round(np.clip(amount, 0.0, 25_000.0), 2)


def _fraud_features(rng: np.random.Generator, n: int, legit: dict, fraud: dict) -> np.ndarray:
    l_mean, l_std = np.asarray(legit["mean"]), np.asarray(legit["std"])
    f_mean, f_std = np.asarray(fraud["mean"]), np.asarray(fraud["std"])
    kind = rng.choice(3, size=n, p=[0.55, 0.30, 0.15])
    x = l_mean + _heavy_tailed(rng, n, l_std)
    # shifted: part of the way to the real fraud centroid, with a wider spread
    pull = rng.uniform(0.25, 1.0, size=(n, 1))
    shifted = l_mean + pull * (f_mean - l_mean) + _heavy_tailed(rng, n, 0.5 * (l_std + f_std) * 0.6)
    x = np.where((kind == 0)[:, None], shifted, x)
    # magnitude: some key components far out, either sign
    mag = x.copy()
    chosen = rng.random((n, len(KEY_COMPONENTS))) < 0.6
    push = rng.uniform(2.5, 5.0, (n, len(KEY_COMPONENTS))) * rng.choice([-1.0, 1.0], (n, len(KEY_COMPONENTS)))
    mag[:, KEY_COMPONENTS] += np.where(chosen, push * l_std[KEY_COMPONENTS], 0.0)
    x = np.where((kind == 1)[:, None], mag, x)
    # camouflaged: a slight pull only
    camo = x + rng.uniform(0.0, 0.15, size=(n, 1)) * (f_mean - l_mean)
    return np.where((kind == 2)[:, None], camo, x)


def synth_transactions(rows: int, *, seed: int, fraud_rate: float | None = None) -> pd.DataFrame:
    """`rows` transactions over 48 hours, sorted by Time, columns as in creditcard.csv."""
    rng = np.random.default_rng(seed)
    cal = calibration()
    legit, fraud = cal["legit"], cal["fraud"]
    rate = DEFAULT_FRAUD_RATE if fraud_rate is None else fraud_rate
    is_fraud = rng.random(rows) < rate
    n_fraud = int(is_fraud.sum())

    features = np.asarray(legit["mean"]) + _heavy_tailed(rng, rows, np.asarray(legit["std"]))
    times = _times(rng, rows, legit["hour_weights_2h"])
    amounts = _amounts(rng, rows, legit, small_share=0.02)
    if n_fraud:
        features[is_fraud] = _fraud_features(rng, n_fraud, legit, fraud)
        times[is_fraud] = _times(rng, n_fraud, fraud["hour_weights_2h"])
        amounts[is_fraud] = _amounts(rng, n_fraud, fraud, small_share=0.35)

    frame = pd.DataFrame(features.round(6), columns=PCA)
    frame.insert(0, "Time", times)
    frame["Amount"] = amounts
    frame["Class"] = is_fraud.astype(np.int64)
    return frame.sort_values("Time", kind="stable").reset_index(drop=True)
