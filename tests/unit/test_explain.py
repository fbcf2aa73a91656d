"""Explanations: path attributions compiled into ONNX, certified against the library's own, adding
up to the score, and said in words that never quote a PII value."""

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

from models.certification import certify
from models.explain import EXPLAIN_MODEL, Attribution, Tree
from models.runtimes import load_runtime
from tests.conftest import train_small
from tests.helpers import perturb_contribution_graph

EXPLAINED = ("rf", "hgb", "logreg", "isolation-forest", "dbscan-outlier")
FRAME = {"dbscan-outlier": ("card-transactions", "tx_frame"),  # the rest: card-applications
         "isolation-forest": ("card-transactions", "tx_frame")}


def _tree(feature: int, threshold: float, values: tuple[float, float, float]) -> Tree:
    """A stump: root (feature <= threshold ? left : right), node values root, left, right."""
    return Tree(np.array([feature, -2, -2]), np.array([threshold, -2.0, -2.0]), np.array([1, -1, -1]),
                 np.array([2, -1, -1]), np.array(values, dtype=float), 0.5)


def test_a_two_tree_forest_has_the_attributions_worked_out_by_hand() -> None:
    trees = [_tree(0, 0.5, (0.5, 0.2, 0.9)), _tree(1, 0.0, (0.4, 0.1, 0.6))]
    for tree in trees:
        tree.attribute(2)
    attribution = Attribution("path attribution", "probability", 2, trees=trees)
    X = np.array([[1.0, -1.0], [0.0, 3.0]], dtype=np.float32)
    # row 0: tree 1 goes right (f0: 0.9 - 0.5 = +0.4), tree 2 left (f1: 0.1 - 0.4 = -0.3); biases 0.5, 0.4; halved
    # row 1: tree 1 left (f0: -0.3), tree 2 right (f1: +0.2)
    expected = np.array([[0.2, -0.15, 0.45], [-0.15, 0.1, 0.45]])
    assert np.allclose(attribution.contributions(X), expected)
    assert np.allclose(expected.sum(axis=1), [(0.9 + 0.1) / 2, (0.2 + 0.6) / 2])  # each tree's leaf, averaged
    graph = ort.InferenceSession(attribution.to_onnx(), providers=["CPUExecutionProvider"])
    assert np.allclose(graph.run(None, {"X": X})[0], expected, atol=1e-7)


@pytest.mark.parametrize("recipe", EXPLAINED)
def test_explanations_are_certified_and_add_up_to_the_score(recipe: str, request: pytest.FixtureRequest,
                                                            tmp_path: Path) -> None:
    detector, frame = FRAME.get(recipe, ("card-applications", "app_frame"))
    bundle = train_small(request.getfixturevalue(frame), detector, recipe, tmp_path / recipe).bundle_dir
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["explanation"]["file"] == (None if recipe == "dbscan-outlier" else EXPLAIN_MODEL)
    cert = certify(bundle)
    assert cert.passed and cert.explanation_max_abs_diff <= 1e-5 and cert.explanation_sum_diff <= 1e-5, cert

    runtime = load_runtime(bundle)
    rows = json.loads((bundle / "certification.json").read_text())["rows"][:50]
    X = runtime.features.transform_records(rows)
    from_parts = runtime.explainer.score(runtime.explainer.contributions(X))  # contributions + bias, as served
    scores = runtime.score_records(rows)  # the model's own graph
    assert np.max(np.abs(from_parts - scores)) <= 1e-5  # they add up to the output
    _, explained = runtime.score_and_explain(rows, top=2)
    assert explained and all(len(e) <= 2 for e in explained) and any(explained)

    perturb_contribution_graph(bundle)
    refused = certify(bundle)
    assert not refused.passed and refused.max_abs_diff <= 1e-5 and refused.explanation_max_abs_diff > 1e-5


def test_texts_name_inputs_and_never_quote_a_pii_value(app_logreg_bundle: Path, app_frame: pd.DataFrame) -> None:
    runtime = load_runtime(app_logreg_bundle)
    fields = ["full_name", "email", "ssn", "phone", "date_of_birth", "zip", "ip", "device_id"]
    rows = json.loads(app_frame.iloc[:200].drop(columns=["__time", "application_id", "is_fraud"], errors="ignore")
                      .to_json(orient="records"))
    scores, explained = runtime.score_and_explain(rows)
    assert explained is not None and len(explained) == len(scores) == 200
    assert any(explained) and all(len(e) <= 3 for e in explained)
    for row, items in zip(rows, explained, strict=True):
        contributions = [i["contribution"] for i in items]
        assert contributions == sorted(contributions, reverse=True) and all(c > 0 for c in contributions)
        text = json.dumps(items)
        for field in fields:
            if row.get(field):
                assert str(row[field]) not in text, field
    sources = {i["feature"] for items in explained for i in items}
    assert not sources & set(fields)  # inputs, never PII fields themselves
    words = {i["feature"]: i["text"] for items in explained for i in items}
    if "zip_ip_distance_km" in words:
        assert words["zip_ip_distance_km"] == "distance between the stated zip code and the IP's location " \
                                              "raised the fraud score"


def test_the_number_of_reasons_is_set_per_detector() -> None:
    from pydantic import ValidationError

    from arbiter.config import Settings

    assert Settings(explanation_top="3").top_reasons("card-applications") == 3
    both = Settings(explanation_top="card-applications=5, 2")
    assert (both.top_reasons("card-applications"), both.top_reasons("card-transactions")) == (5, 2)
    with pytest.raises(ValidationError, match="explanation_top"):
        Settings(explanation_top="card-applications=five")
