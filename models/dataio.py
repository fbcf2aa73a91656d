"""Reading training data for a detector, with errors that name what is wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from models.errors import DataError, first_line
from models.features import epoch_seconds
from models.schema import Detector

TIME_COLUMN = "__time"


def read_dataset(path: str | Path, detector: Detector) -> pd.DataFrame:
    """Load a CSV for `detector`, check it, and sort it by the detector's time column.

    Adds `__time` (float seconds) for time-based splitting.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        frame = pd.read_csv(path, low_memory=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"cannot read {path} as CSV: {first_line(exc)}") from None
    return prepare_frame(frame, detector, source=str(path))


def prepare_frame(frame: pd.DataFrame, detector: Detector, source: str = "data") -> pd.DataFrame:
    """Check columns and labels of an in-memory frame and add the `__time` column."""
    needed = [f.name for f in detector.fields if f.required] + [detector.label]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"{source} lacks column(s) required by {detector.name}: {', '.join(missing)}")
    if frame.empty:
        raise DataError(f"{source} has no rows")
    labels = pd.to_numeric(frame[detector.label], errors="coerce")
    if labels.isna().any() or not labels.isin([0, 1]).all():
        raise DataError(f"{source}: label column {detector.label!r} must hold only 0 and 1")
    frame = frame.copy()
    frame[detector.label] = labels.astype(np.int64)
    times = epoch_seconds(frame[detector.time_field].to_numpy(), detector.time_kind)
    bad = int(np.isnan(times).sum())
    if bad:
        raise DataError(f"{source}: {bad} row(s) have an unreadable {detector.time_field!r}")
    frame[TIME_COLUMN] = times
    return frame.sort_values(TIME_COLUMN, kind="stable").reset_index(drop=True)
