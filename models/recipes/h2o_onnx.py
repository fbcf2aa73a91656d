"""H2O models as ONNX graphs, so no JVM sits on the request path.

Every graph takes the float32 feature matrix `input` and returns `probabilities`, an (n, 2)
matrix of [P(legit), P(fraud)], like the scikit-learn recipes' graphs.

- GBM: onnxmltools' `convert_h2o`, from the MOJO.
- DRF: the MOJO's trees (read with H2O's own PrintMojo) as an ONNX tree ensemble averaging
  its leaves, the way H2O's DRF averages its trees.
- GLM: the coefficients on the original scale, evaluated in float64 (Cast -> MatMul -> Add
  -> Sigmoid), so the only difference from H2O is float64 rounding.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from models.errors import BundleError
from models.explain import Attribution, Tree, attributed
from models.recipes.base import ONNX_OPSET

INPUT = "input"
OUTPUT = "probabilities"


def read_mojo_trees(mojo_path: Path) -> dict[str, Any]:
    """The MOJO's parameters and trees, as H2O's PrintMojo tool writes them (JSON)."""
    import h2o

    text = h2o.print_mojo(str(mojo_path), format="json")
    if not text:
        raise BundleError(f"H2O's PrintMojo could not read {mojo_path}")
    return json.loads(text)


def gbm_to_onnx(mojo_path: Path, n_features: int) -> bytes:
    """A binomial GBM MOJO through onnxmltools' H2O converter."""
    from onnxmltools.convert import convert_h2o
    from onnxmltools.convert.common.data_types import FloatTensorType

    # onnxmltools picks the highest opset its H2O converter supports (15 with onnx 1.2x)
    model = convert_h2o(str(mojo_path), initial_types=[(INPUT, FloatTensorType([None, n_features]))])
    return model.SerializeToString()


def _opsets() -> list[onnx.OperatorSetIdProto]:
    return [helper.make_opsetid(domain, version) for domain, version in ONNX_OPSET.items()]


def _finish(nodes: list[onnx.NodeProto], initializers: list[onnx.TensorProto], n_features: int,
            output_type: int, name: str) -> bytes:
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info(OUTPUT, output_type, [None, 2])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=_opsets(), producer_name="arbiter")
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()


def _both_classes(fraud: str, dtype: np.dtype, prefix: str) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """Nodes turning an (n, 1) fraud probability into the (n, 2) `probabilities` output."""
    one = numpy_helper.from_array(np.ones((1, 1), dtype=dtype), f"{prefix}_one")
    nodes = [helper.make_node("Sub", [one.name, fraud], [f"{prefix}_legit"]),
             helper.make_node("Concat", [f"{prefix}_legit", fraud], [OUTPUT], axis=1)]
    return nodes, [one]


def drf_to_onnx(mojo: Mapping[str, Any], n_features: int) -> bytes:
    """A binomial DRF (from `read_mojo_trees`) as an ONNX TreeEnsembleRegressor averaging its trees.

    A DRF binomial tree's leaf holds the share of the first class (H2O's p0), and the model's
    p0 is the mean over trees; so the fraud probability is 1 - mean.
    """
    params = mojo["params"]
    if params.get("algo") != "drf" or params.get("nclasses") != 2 or params.get("n_trees_in_group") != 1:
        raise BundleError("only binomial DRF MOJOs with one tree per group convert to ONNX")
    attrs: dict[str, list[Any]] = {key: [] for key in (
        "nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values",
        "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
        "target_treeids", "target_nodeids", "target_ids", "target_weights")}
    for tree_id, tree in enumerate(mojo["trees"]):
        _add_tree(attrs, tree_id, tree["root"])
    legit = helper.make_node("TreeEnsembleRegressor", [INPUT], ["legit_share"], domain="ai.onnx.ml",
                             n_targets=1, aggregate_function="AVERAGE", post_transform="NONE", **attrs)
    one = numpy_helper.from_array(np.ones((1, 1), dtype=np.float32), "one")
    nodes = [legit, helper.make_node("Sub", [one.name, "legit_share"], ["fraud"]),
             helper.make_node("Concat", ["legit_share", "fraud"], [OUTPUT], axis=1)]
    return _finish(nodes, [one], n_features, TensorProto.FLOAT, "h2o_drf")


def _add_tree(attrs: dict[str, list[Any]], tree_id: int, root: Mapping[str, Any]) -> None:
    """Append one tree's nodes, numbered depth-first; H2O sends a row right when value >= split."""
    stack: list[Mapping[str, Any]] = [root]
    ids: dict[int, int] = {}

    def node_id(node: Mapping[str, Any]) -> int:
        return ids.setdefault(id(node), len(ids))

    while stack:
        node = stack.pop()
        nid = node_id(node)
        attrs["nodes_treeids"].append(tree_id)
        attrs["nodes_nodeids"].append(nid)
        if "leftChild" not in node:
            attrs["nodes_featureids"].append(0)
            attrs["nodes_modes"].append("LEAF")
            attrs["nodes_values"].append(0.0)
            attrs["nodes_truenodeids"].append(0)
            attrs["nodes_falsenodeids"].append(0)
            attrs["nodes_missing_value_tracks_true"].append(0)
            attrs["target_treeids"].append(tree_id)
            attrs["target_nodeids"].append(nid)
            attrs["target_ids"].append(0)
            attrs["target_weights"].append(float(node["predValue"]))
            continue
        if node.get("isCategorical"):
            raise BundleError("a DRF with categorical splits does not convert to ONNX")
        left, right = node["leftChild"], node["rightChild"]
        attrs["nodes_featureids"].append(int(node["colId"]))
        attrs["nodes_modes"].append("BRANCH_GTE")
        attrs["nodes_values"].append(float(node["splitValue"]))
        attrs["nodes_truenodeids"].append(node_id(right))
        attrs["nodes_falsenodeids"].append(node_id(left))
        attrs["nodes_missing_value_tracks_true"].append(0 if node.get("leftward") else 1)
        stack.extend((right, left))


def mojo_attribution(mojo: Mapping[str, Any], n_features: int) -> Attribution:
    """Path attribution of a binomial GBM or DRF from its MOJO trees (`read_mojo_trees`).

    A node's value is its children's, weighted by the MOJO's node weights. GBM: the log-odds,
    `base_score` plus the trees' leaves; DRF: the fraud probability, 1 - the mean of the trees'
    legit shares (each tree's values taken as 1 - p0, the scale 1/trees)."""
    params = mojo["params"]
    algo = params.get("algo")
    if algo not in ("gbm", "drf") or params.get("nclasses") != 2 or params.get("n_trees_in_group") != 1:
        raise BundleError("only binomial GBM or DRF MOJOs with one tree per group are explained")
    flip, scale = (True, 1.0 / len(mojo["trees"])) if algo == "drf" else (False, 1.0)
    trees = [_flat_tree(tree["root"], flip, scale) for tree in mojo["trees"]]
    if algo == "gbm":
        return attributed(Attribution("path attribution (Saabas) over the MOJO's trees, summed", "log-odds",
                                      n_features, trees=trees, base=float(params.get("base_score", 0.0))))
    return attributed(Attribution("path attribution (Saabas) over the MOJO's trees, averaged", "probability",
                                  n_features, trees=trees))


def _flat_tree(root: Mapping[str, Any], flip: bool, scale: float) -> Tree:
    """A MOJO tree as arrays (left when value < split: H2O sends value >= split right)."""
    nodes: list[Mapping[str, Any]] = []
    ids: dict[int, int] = {}
    stack = [root]
    while stack:  # number the nodes depth-first, parents before children
        node = stack.pop()
        ids[id(node)] = len(nodes)
        nodes.append(node)
        if "leftChild" in node:
            if node.get("isCategorical"):
                raise BundleError("a tree with categorical splits is not explained")
            stack.extend((node["rightChild"], node["leftChild"]))
    n = len(nodes)
    feature, left, right = np.zeros(n, np.int64), np.full(n, -1, np.int64), np.full(n, -1, np.int64)
    threshold, value, weight = np.zeros(n), np.zeros(n), np.zeros(n)
    nan_left = np.zeros(n, dtype=bool)
    for i, node in enumerate(nodes):
        weight[i] = float(node.get("weight", 1.0))
        if "leftChild" in node:
            feature[i], threshold[i] = int(node["colId"]), float(np.float32(node["splitValue"]))
            left[i], right[i] = ids[id(node["leftChild"])], ids[id(node["rightChild"])]
            nan_left[i] = bool(node.get("leftward"))
        else:
            value[i] = 1.0 - float(node["predValue"]) if flip else float(node["predValue"])
    for i in range(n - 1, -1, -1):  # children after parents in the numbering: fill upwards
        if left[i] >= 0:
            w = weight[left[i]] + weight[right[i]]
            value[i] = ((weight[left[i]] * value[left[i]] + weight[right[i]] * value[right[i]]) / w if w > 0
                        else (value[left[i]] + value[right[i]]) / 2)
    return Tree(feature, threshold, left, right, value, scale, mode="BRANCH_LT", nan_left=nan_left)


def glm_attribution(coefficients: Mapping[str, float], names: Sequence[str], means: np.ndarray) -> Attribution:
    """A binomial GLM's terms: coefficient x (value - training mean) on the original scale; the bias
    the linear predictor at the means."""
    weights = np.array([coefficients.get(name, 0.0) for name in names], dtype=np.float64)
    bias = float(coefficients.get("Intercept", 0.0)) + float(weights @ means)
    return Attribution("coefficient x (value - training mean)", "log-odds", len(names),
                       linear=(weights, np.asarray(means, dtype=np.float64), bias))


def glm_to_onnx(coefficients: Mapping[str, float], names: Sequence[str], n_features: int) -> bytes:
    """A binomial GLM from its coefficients on the original scale (`Intercept` plus one per name)."""
    unknown = sorted(set(coefficients) - set(names) - {"Intercept"})
    if unknown:
        raise BundleError(f"GLM coefficients for unknown feature(s): {', '.join(unknown)}")
    weights = np.array([[coefficients.get(name, 0.0)] for name in names], dtype=np.float64)
    bias = np.array([[coefficients.get("Intercept", 0.0)]], dtype=np.float64)
    inits = [numpy_helper.from_array(weights, "weights"), numpy_helper.from_array(bias, "intercept")]
    nodes = [helper.make_node("Cast", [INPUT], ["x64"], to=TensorProto.DOUBLE),
             helper.make_node("MatMul", ["x64", "weights"], ["eta_raw"]),
             helper.make_node("Add", ["eta_raw", "intercept"], ["eta"]),
             helper.make_node("Sigmoid", ["eta"], ["fraud"])]
    tail, more = _both_classes("fraud", np.float64, "glm")
    return _finish(nodes + tail, inits + more, n_features, TensorProto.DOUBLE, "h2o_glm")
