"""Reading training data: errors name the problem."""

from pathlib import Path

import pandas as pd
import pytest

from models.dataio import read_dataset
from models.detectors import get_detector
from models.errors import DataError
from models.synth import synthesize

TX = get_detector("card-transactions")


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    synthesize("card-transactions", 50, seed=1).drop(columns=["V3", "Amount"]).to_csv(path, index=False)
    with pytest.raises(DataError, match="V3, Amount"):
        read_dataset(path, TX)


def test_labels_must_be_binary(tmp_path: Path) -> None:
    frame = synthesize("card-transactions", 50, seed=1)
    frame.loc[3, "Class"] = 7
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match="only 0 and 1"):
        read_dataset(tmp_path / "d.csv", TX)


def test_unreadable_and_absent_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        read_dataset(tmp_path / "none.csv", TX)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="cannot read"):
        read_dataset(tmp_path / "empty.csv", TX)


def test_rows_come_back_in_time_order(tmp_path: Path) -> None:
    frame = synthesize("card-transactions", 200, seed=1).sample(frac=1.0, random_state=0)
    frame.to_csv(tmp_path / "d.csv", index=False)
    loaded = read_dataset(tmp_path / "d.csv", TX)
    assert loaded["__time"].is_monotonic_increasing
    pd.testing.assert_series_equal(loaded["Time"], loaded["__time"], check_names=False)
