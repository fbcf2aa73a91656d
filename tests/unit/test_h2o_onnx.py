"""The H2O -> ONNX builders against a direct reading of the model (no JVM needed)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from models.errors import BundleError, EngineError
from models.recipes.h2o_engine import parse_size
from models.recipes.h2o_onnx import OUTPUT, drf_to_onnx, glm_attribution, glm_to_onnx, mojo_attribution


def _leaf(value: float) -> dict:
    return {"predValue": value}


def _split(col: int, value: float, left: dict, right: dict, leftward: bool = True) -> dict:
    return {"colId": col, "splitValue": value, "isCategorical": False, "leftward": leftward,
            "leftChild": left, "rightChild": right}


MOJO = {
    "params": {"algo": "drf", "nclasses": 2, "n_trees_in_group": 1},
    "trees": [
        {"root": _split(0, 0.5, _split(1, -1.0, _leaf(0.9), _leaf(0.7)), _leaf(0.2))},
        {"root": _split(1, 0.25, _leaf(1.0), _split(2, 3.0, _leaf(0.6), _leaf(0.0), leftward=False))},
        {"root": _leaf(0.95)},
    ],
}


def _walk(node: dict, row: np.ndarray) -> float:
    while "leftChild" in node:
        value = row[node["colId"]]
        if np.isnan(value):
            node = node["leftChild"] if node["leftward"] else node["rightChild"]
        else:
            node = node["rightChild"] if value >= np.float32(node["splitValue"]) else node["leftChild"]
    return node["predValue"]


def _run(model: bytes, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run([OUTPUT], {"input": X})[0]


def test_drf_graph_averages_the_trees_and_gives_one_minus_the_legit_share() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(scale=2.0, size=(500, 3)).astype(np.float32)
    X[:10, 0] = 0.5  # exactly on a threshold: H2O sends it right (value >= split)
    X[10:20, 1] = 0.25
    X[20:30, 2] = np.nan
    X[30:40, 0] = np.nan
    got = _run(drf_to_onnx(MOJO, 3), X)
    legit = np.array([np.mean([_walk(t["root"], row) for t in MOJO["trees"]]) for row in X])
    assert got.shape == (500, 2)
    np.testing.assert_allclose(got[:, 0], legit, atol=1e-6)
    np.testing.assert_allclose(got[:, 1], 1.0 - legit, atol=1e-6)


def test_mojo_path_attribution_worked_out_by_hand_and_compiled_into_onnx() -> None:
    # a DRF stump: x0 >= 1 goes right; legit shares 0.8 (left, weight 3) and 0.2 (right, weight 1)
    stump = {"colId": 0, "splitValue": 1.0, "isCategorical": False, "leftward": True, "weight": 4.0,
             "leftChild": {"predValue": 0.8, "weight": 3.0}, "rightChild": {"predValue": 0.2, "weight": 1.0}}
    mojo = {"params": {"algo": "drf", "nclasses": 2, "n_trees_in_group": 1},
            "trees": [{"root": stump}, {"root": {"predValue": 0.9, "weight": 4.0}}]}
    attribution = mojo_attribution(mojo, 2)
    X = np.array([[1.0, 5.0], [0.0, 5.0], [np.nan, 0.0]], dtype=np.float32)
    # fraud values: root (3 x 0.2 + 1 x 0.8) / 4 = 0.35, left 0.2, right 0.8; the leaf tree 0.1; halved
    # row 0 (1.0 >= 1: right): x0 +0.45 / 2; row 1 left: -0.15 / 2; row 2 missing goes left (leftward)
    expected = np.array([[0.225, 0.0, 0.225], [-0.075, 0.0, 0.225], [-0.075, 0.0, 0.225]])
    np.testing.assert_allclose(attribution.contributions(X), expected, atol=1e-12)
    fraud = _run(drf_to_onnx(mojo, 2), X)[:, 1]
    np.testing.assert_allclose(expected.sum(axis=1), fraud, atol=1e-6)  # they add up to the served score
    graph = ort.InferenceSession(attribution.to_onnx(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(graph.run(None, {"X": X})[0], expected, atol=1e-7)


def test_glm_terms_add_up_to_the_linear_predictor() -> None:
    coefficients, names = {"Intercept": -1.0, "a": 2.0, "b": -0.5}, ["a", "b"]
    attribution = glm_attribution(coefficients, names, np.array([1.0, 4.0]))
    X = np.array([[3.0, 2.0]], dtype=np.float32)
    np.testing.assert_allclose(attribution.contributions(X), [[4.0, 1.0, -1.0 + 2.0 - 2.0]])
    np.testing.assert_allclose(attribution.contributions(X).sum(), -1.0 + 6.0 - 1.0)


def test_drf_refuses_what_it_cannot_express() -> None:
    with pytest.raises(BundleError, match="binomial DRF"):
        drf_to_onnx({**MOJO, "params": {"algo": "drf", "nclasses": 3, "n_trees_in_group": 3}}, 3)
    categorical = {**MOJO, "trees": [{"root": {**_split(0, 0.5, _leaf(1.0), _leaf(0.0)), "isCategorical": True}}]}
    with pytest.raises(BundleError, match="categorical"):
        drf_to_onnx(categorical, 3)


def test_glm_graph_is_the_logistic_of_the_linear_predictor_in_float64() -> None:
    rng = np.random.default_rng(1)
    names = ["a", "b", "c=x"]
    coefficients = {"Intercept": -1.25, "a": 0.7311, "b": -2.5e-3, "c=x": 1.9}  # a dropped column gets 0
    X = rng.normal(size=(400, 3)).astype(np.float32)
    got = _run(glm_to_onnx(coefficients, names, 3), X)
    eta = -1.25 + X.astype(np.float64) @ np.array([0.7311, -2.5e-3, 1.9])
    np.testing.assert_allclose(got[:, 1], 1.0 / (1.0 + np.exp(-eta)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)
    with pytest.raises(BundleError, match="unknown feature"):
        glm_to_onnx({"Intercept": 0.0, "zzz": 1.0}, names, 3)


def test_heap_sizes_read_like_the_jvm_flag() -> None:
    assert parse_size("1g") == 1 << 30
    assert parse_size("512M") == 512 << 20
    assert parse_size("2048mb") == 2048 << 20
    with pytest.raises(EngineError, match="not a size"):
        parse_size("lots")
