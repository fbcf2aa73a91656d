"""Data quality figures recorded in the manifest (the seed's governance metadata)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models.features import as_float
from models.schema import Detector


def data_quality(frame: pd.DataFrame, detector: Detector) -> dict[str, Any]:
    """Rows, duplicates, class balance, and per field: missing, cardinality, out of range."""
    rows = len(frame)
    label = frame[detector.label]
    fields: dict[str, Any] = {}
    for f in detector.fields:
        if f.name not in frame.columns:
            fields[f.name] = {"missing": rows, "cardinality": 0, "absent_column": True}
            continue
        col = frame[f.name]
        info: dict[str, Any] = {"missing": int(col.isna().sum()), "cardinality": int(col.nunique(dropna=True))}
        if f.kind in ("number", "integer"):
            values = as_float(col.to_numpy())
            low = f.minimum if f.minimum is not None else -np.inf
            high = f.maximum if f.maximum is not None else np.inf
            info["out_of_range"] = int(((values < low) | (values > high)).sum())
            present = values[~np.isnan(values)]
            if present.size:
                info |= {"min": float(present.min()), "max": float(present.max()), "mean": float(present.mean())}
        fields[f.name] = info
    return {
        "rows": rows,
        "duplicate_rows": int(frame.duplicated().sum()),
        "class_balance": {"positives": int(label.sum()), "negatives": int(rows - label.sum()),
                          "positive_share": float(label.mean()) if rows else 0.0},
        "fields": fields,
    }
