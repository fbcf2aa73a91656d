"""Training produces governed, certified bundles; the gates refuse and leave nothing behind."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.certification import certify
from models.detectors import get_detector
from models.errors import DataError, TrainingGateError
from models.recipes import H2O_RECIPES, RECIPE_NAMES, get_recipe
from models.runtimes import load_runtime
from models.training import parse_time, train
from tests.conftest import FAST_PARAMS, train_small

MANIFEST_KEYS = {
    "name", "detector", "recipe", "flavour", "hyper_parameters", "library_versions", "input_schema",
    "schema_fingerprint", "windows", "data_quality", "metrics", "threshold", "feature_importance", "serving",
    "certification", "files", "features", "drift_reference", "recipe_details",
}


@pytest.mark.parametrize("recipe", sorted(set(RECIPE_NAMES) - H2O_RECIPES))  # H2O's: tests/integration/test_h2o.py
def test_every_recipe_trains_and_certifies_on_both_runtimes(recipe: str, tx_frame: pd.DataFrame,
                                                             tmp_path: Path) -> None:
    result = train_small(tx_frame, "card-transactions", recipe, tmp_path / recipe)
    m = result.manifest
    assert set(m) >= MANIFEST_KEYS
    assert m["recipe"] == recipe and m["detector"] == "card-transactions"
    assert m["metrics"]["validation"]["roc_auc"] > 0.7
    runtimes = ("onnx", "sklearn") if m["serving"]["runtime"] == "onnx" else ("sklearn",)
    for runtime in runtimes:
        cert = certify(result.bundle_dir, runtime)
        assert cert.rows >= 200
        assert cert.passed, (runtime, cert.max_abs_diff)
        assert cert.max_abs_diff <= 1e-5


def test_manifest_governance_content(rf_bundle: Path) -> None:
    m = json.loads((rf_bundle / "manifest.json").read_text())
    train_w, valid_w = m["windows"]["training"], m["windows"]["validation"]
    assert train_w["to"] < valid_w["from"]  # the validation window comes after training
    assert train_w["rows"] + valid_w["rows"] == m["data_quality"]["rows"] == 8000
    q = m["data_quality"]
    assert q["class_balance"]["positives"] + q["class_balance"]["negatives"] == q["rows"]
    assert set(q["fields"]) == set(get_detector("card-transactions").field_names)
    assert q["fields"]["Amount"]["missing"] == 0 and q["fields"]["V1"]["cardinality"] > 1000
    v = m["metrics"]["validation"]
    assert {"roc_auc", "pr_auc", "precision", "recall", "f1", "confusion_matrix", "roc_curve"} <= set(v)
    cm = v["confusion_matrix"]
    assert cm["tp"] + cm["fn"] == valid_w["positives"]
    assert len(v["roc_curve"]["fpr"]) == len(v["roc_curve"]["tpr"]) >= 10
    values = m["feature_importance"]["values"]
    assert len(values) == len(m["features"]["names"])
    assert values[0]["importance"] >= values[-1]["importance"]
    assert m["library_versions"]["scikit-learn"]
    cert = json.loads((rf_bundle / "certification.json").read_text())
    assert len(cert["rows"]) == len(cert["expected_scores"]) >= 200
    assert sum(cert["labels"]) > 0


def test_min_auc_gate_writes_nothing(tx_frame: pd.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "gated"
    with pytest.raises(TrainingGateError, match="below --min-auc"):
        train(get_detector("card-transactions"), get_recipe("logreg"), tx_frame, out, min_auc=0.9999)
    assert not out.exists()
    assert not list(tmp_path.iterdir())  # no staging leftovers either


def test_train_until_sets_the_split(tx_frame: pd.DataFrame, tmp_path: Path) -> None:
    det = get_detector("card-transactions")
    result = train_small(tx_frame, "card-transactions", "logreg", tmp_path / "b", train_until=86_400.0)
    assert result.manifest["windows"]["training"]["to"] < 86_400.0 <= result.manifest["windows"]["validation"]["from"]
    with pytest.raises(DataError, match="empty training window"):
        train(det, get_recipe("logreg"), tx_frame, tmp_path / "c", train_until=-1.0)
    with pytest.raises(DataError, match="not seconds"):
        parse_time("yesterday", det)


def test_unknown_hyper_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match="no parameter"):
        get_recipe("rf").resolve_params({"n_trees": "5"}, seed=0)
    assert get_recipe("rf").resolve_params({"n_estimators": "7"}, seed=0)["n_estimators"] == 7


def test_forest_beats_logistic_on_applications(app_frame: pd.DataFrame, tmp_path: Path,
                                               app_logreg_bundle: Path) -> None:
    """The synthetic fraud is learnable but not linear."""
    rf = train(get_detector("card-applications"), get_recipe("rf"), app_frame, tmp_path / "rf", seed=3,
               params={"n_estimators": 60})
    logreg = json.loads((app_logreg_bundle / "manifest.json").read_text())
    rf_auc = rf.manifest["metrics"]["validation"]["roc_auc"]
    lr_auc = logreg["metrics"]["validation"]["roc_auc"]
    assert rf_auc > 0.85
    assert rf_auc - lr_auc > 0.03, (rf_auc, lr_auc)


def test_runtime_batch_equals_row_by_row(app_logreg_bundle: Path) -> None:
    runtime = load_runtime(app_logreg_bundle)
    rows = json.loads((app_logreg_bundle / "certification.json").read_text())["rows"][:50]
    batch = runtime.score_records(rows)
    single = np.array([runtime.score_records([r])[0] for r in rows])
    assert np.allclose(batch, single, atol=1e-6)
    assert ((batch >= 0) & (batch <= 1)).all()
    assert runtime.score_records([]).shape == (0,)


def test_non_empty_output_directory_is_refused(tx_frame: pd.DataFrame, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(DataError, match="not empty"):
        train(get_detector("card-transactions"), get_recipe("logreg"), tx_frame, tmp_path / "busy",
              params=FAST_PARAMS["logreg"])
