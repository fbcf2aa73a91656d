"""The `dbscan-outlier` recipe: eps at the knee, the seed's features, a KD-tree that answers what
brute force answers, scores that grow with the distance beyond eps."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from models.bundle import CERTIFICATION
from models.recipes import get_recipe
from models.recipes.outlier import knee_index
from models.runtimes import load_runtime
from tests.conftest import train_small


def test_knee_of_a_flat_then_steep_curve() -> None:
    curve = np.r_[np.linspace(0.1, 0.2, 90), np.linspace(0.3, 3.0, 10)]
    assert 85 <= knee_index(curve) <= 91
    assert knee_index(np.array([1.0, 1.0, 1.0])) == 1  # flat: the middle


@pytest.fixture(scope="module")
def dbscan_bundle(tx_frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_small(tx_frame, "card-transactions", "dbscan-outlier",
                       tmp_path_factory.mktemp("dbscan") / "bundle").bundle_dir


def test_manifest_records_the_curve_the_knee_and_the_seed_features(dbscan_bundle: Path) -> None:
    manifest = json.loads((dbscan_bundle / "manifest.json").read_text())
    details = manifest["recipe_details"]
    assert details["features"] == ["V4", "V12", "V14"] and details["min_samples"] == 10
    curve = details["k_distance_curve"]
    assert curve["distance"] == sorted(curve["distance"]) and len(curve["distance"]) <= 200
    assert details["eps"] == pytest.approx(curve["knee_distance"]) and details["eps_chosen_by"].startswith("knee")
    assert manifest["serving"]["runtime"] == "sklearn" and not (dbscan_bundle / "model.onnx").exists()
    assert manifest["metrics"]["validation"]["roc_auc"] > 0.8
    assert manifest["certification"]["rows"] > 0


def test_kd_tree_answers_what_brute_force_answers(dbscan_bundle: Path) -> None:
    model = joblib.load(dbscan_bundle / "model.joblib")
    reference = np.asarray(model.tree.data)
    runtime = load_runtime(dbscan_bundle)
    rows = json.loads((dbscan_bundle / CERTIFICATION).read_text())["rows"][:50]
    X = runtime.features.transform_records(rows)
    Z = model.standardise(X)
    brute = np.sort(np.linalg.norm(Z[:, None, :] - reference[None, :, :], axis=2), axis=1)[:, model.min_samples - 1]
    assert np.allclose(model.distance_ratio(X), brute / model.eps, rtol=0, atol=1e-12)
    batch = runtime.score_records(rows)
    one_by_one = np.array([runtime.score_records([r])[0] for r in rows])
    assert np.array_equal(batch, one_by_one)


def test_score_grows_with_the_distance_beyond_eps(dbscan_bundle: Path) -> None:
    runtime = load_runtime(dbscan_bundle)
    rows = json.loads((dbscan_bundle / CERTIFICATION).read_text())["rows"]
    base = dict(rows[0])
    scores = []
    for shift in (0.0, 5.0, 10.0, 20.0, 40.0):
        record = dict(base, V14=(base["V14"] or 0.0) - shift)
        scores.append(float(runtime.score_records([record])[0]))
    assert scores == sorted(scores) and scores[-1] > 0.99
    assert runtime.score_records([dict(base, V1=base["V1"] + 50)])[0] == pytest.approx(scores[0])  # not a chosen column


def test_features_are_configurable_and_checked(tx_frame: pd.DataFrame, tmp_path: Path) -> None:
    from models.detectors import get_detector
    from models.training import train

    result = train(get_detector("card-transactions"), get_recipe("dbscan-outlier"), tx_frame, tmp_path / "b",
                   params={"features": "V10,V17", "min_samples": 5, "max_reference": 3000}, seed=1)
    assert result.manifest["recipe_details"]["features"] == ["V10", "V17"]
    assert result.manifest["recipe_details"]["min_samples"] == 5
    with pytest.raises(ValueError, match="V99"):
        train(get_detector("card-transactions"), get_recipe("dbscan-outlier"), tx_frame, tmp_path / "c",
              params={"features": "V4,V99"})
