"""Metrics against hand-computed cases; bundle sealing and tamper detection."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from models.bundle import MANIFEST, bundle_digest, verify_bundle
from models.errors import BundleError
from models.metrics import best_f1_threshold, classification_report
from tests.helpers import copy_bundle


def test_report_by_hand() -> None:
    y = np.array([0, 0, 0, 0, 1, 1, 0, 1])
    s = np.array([0.1, 0.2, 0.3, 0.8, 0.9, 0.6, 0.4, 0.2])
    r = classification_report(y, s, threshold=0.5)
    # predicted positive: 0.8(neg), 0.9(pos), 0.6(pos) -> tp 2, fp 1, fn 1, tn 4
    assert r["confusion_matrix"] == {"tn": 4, "fp": 1, "fn": 1, "tp": 2}
    assert r["precision"] == pytest.approx(2 / 3) and r["recall"] == pytest.approx(2 / 3)
    assert r["f1"] == pytest.approx(2 / 3)
    # AUC by pair counting: positives 0.9, 0.6, 0.2 vs negatives 0.1 .2 .3 .8 .4
    pairs = [(p > n) + 0.5 * (p == n) for p in (0.9, 0.6, 0.2) for n in (0.1, 0.2, 0.3, 0.8, 0.4)]
    assert r["roc_auc"] == pytest.approx(sum(pairs) / 15)
    assert r["roc_curve"]["fpr"][0] == 0.0 and r["roc_curve"]["tpr"][-1] == 1.0


def test_best_f1_threshold() -> None:
    y = np.array([0, 0, 1, 1, 0, 1])
    s = np.array([0.1, 0.2, 0.7, 0.8, 0.75, 0.9])
    # at 0.7: tp 3 fp 1 -> F1 6/7; at 0.8: tp 2 fp 0 -> F1 0.8; at 0.9: tp 1 -> 0.5
    assert best_f1_threshold(y, s) == pytest.approx(0.7)


def test_sealed_bundle_verifies(rf_bundle: Path) -> None:
    manifest = verify_bundle(rf_bundle)
    assert set(manifest["files"]) >= {"model.onnx", "model.joblib", "features.json", "certification.json"}
    assert len(bundle_digest(rf_bundle)) == 64


@pytest.mark.parametrize("tamper", ["modify", "add", "delete", "manifest-garbage"])
def test_tampering_is_detected(rf_bundle: Path, tmp_path: Path, tamper: str) -> None:
    bundle = copy_bundle(rf_bundle, tmp_path / "b")
    if tamper == "modify":
        data = bytearray((bundle / "model.onnx").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (bundle / "model.onnx").write_bytes(bytes(data))
    elif tamper == "add":
        (bundle / "extra.py").write_text("print('hi')")
    elif tamper == "delete":
        (bundle / "features.json").unlink()
    else:
        (bundle / MANIFEST).write_text("{not json")
    with pytest.raises(BundleError):
        verify_bundle(bundle)


def test_manifest_edit_changes_the_digest(rf_bundle: Path, tmp_path: Path) -> None:
    bundle = copy_bundle(rf_bundle, tmp_path / "b")
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest["name"] = "renamed"
    (bundle / MANIFEST).write_text(json.dumps(manifest))
    assert bundle_digest(bundle) != bundle_digest(rf_bundle)
    shutil.rmtree(bundle)
