"""Derive `kaggle_calibration.json` from a sample of the Kaggle credit-card data.

    python -m models.synth.calibrate ../shared/data/creditcard-sample.csv

Only per-class summary statistics are kept (means, standard deviations, amount and
hour-of-day shape), so the synthesizer works on machines without the sample file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).with_name("kaggle_calibration.json")
PCA = [f"V{i}" for i in range(1, 29)]


def calibrate(csv: Path) -> dict:
    frame = pd.read_csv(csv).drop_duplicates()
    out: dict = {"source": csv.name, "rows": len(frame)}
    for label, name in ((0, "legit"), (1, "fraud")):
        part = frame[frame["Class"] == label]
        amount = part["Amount"].to_numpy()
        hours = np.histogram((part["Time"] % 86400) / 3600, bins=12, range=(0, 24))[0]
        out[name] = {
            "rows": len(part),
            "mean": [round(float(x), 4) for x in part[PCA].mean()],
            "std": [round(float(x), 4) for x in part[PCA].std()],
            "amount_zero_share": round(float((amount == 0).mean()), 4),
            "amount_log1p_mean": round(float(np.log1p(amount).mean()), 4),
            "amount_log1p_std": round(float(np.log1p(amount).std()), 4),
            "hour_weights_2h": [int(h) for h in hours],
        }
    return out


if __name__ == "__main__":
    OUT.write_text(json.dumps(calibrate(Path(sys.argv[1])), indent=1) + "\n")
    print(f"wrote {OUT}")
