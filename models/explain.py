"""Per-decision explanations: each feature's contribution to a model's raw output, as an ONNX graph
built at training beside the model, so serving gets them from one more onnxruntime call.

- Tree ensembles (`rf`, `hgb`): path attribution (Saabas; SHAP's approximate tree explainer). Along a
  row's path in a tree, each split moves the expected output from its node's value to its child's;
  the move is credited to the split's feature. The root's value is the bias. Summed over the trees
  (`rf`: averaged), contributions plus bias equal the model's raw output: the probability for a
  forest, the log-odds for boosting. Per leaf the contributions are fixed, so the attribution is
  itself a tree ensemble with the model's splits and one value per feature in each leaf: an ONNX
  `TreeEnsembleRegressor` with `n_features + 1` targets (the last one the bias).
  A node's value: a forest tree's class-1 share (`tree_.value`, as treeinterpreter reads it); a
  boosting tree's leaf values averaged by the training rows under the node (`count`).
  H2O's trees (`h2o-gbm`, `h2o-drf`) come from the MOJO (`models.recipes.h2o_onnx.mojo_attribution`):
  a node's value is its children's weighted by the MOJO's node weights; H2O sends a row right when
  value >= split (`BRANCH_LT` to the left), and a missing value the way the split learned.
- Linear (`logreg`, `h2o-glm`): coefficient x (value - training mean), the bias the linear predictor
  at the means: a `Sub`, a `Mul` and a `Concat`.
- Outlier recipes: each standardised feature's share of the squared distance to the point's k-th
  neighbour, times the distance ratio: computed by the model itself (a neighbour query has no ONNX
  operator), certified against the training run's own values and the served score the same way.

`Attribution.contributions` is the reference, computed from the training library's own
structures (its own leaf assignment for a forest), against which registration certifies the graph.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from models.scoring import to_score

EXPLAIN_MODEL = "explain.onnx"
OPSET = [helper.make_opsetid("", 18), helper.make_opsetid("ai.onnx.ml", 3)]


@dataclass
class Tree:
    """One tree, flattened: children -1 at leaves; `value` per node; output scaled by `scale`.
    A row goes left when x <= threshold (`BRANCH_LEQ`, scikit-learn) or x < threshold (`BRANCH_LT`,
    H2O); a missing value goes left where `nan_left` says so (None: never missing)."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    scale: float
    mode: str = "BRANCH_LEQ"
    nan_left: np.ndarray | None = None
    leaves: dict[int, np.ndarray] = field(default_factory=dict)  # leaf -> contributions (+ bias last)

    def attribute(self, n_features: int) -> None:
        stack = [(0, np.zeros(n_features + 1))]
        while stack:
            node, acc = stack.pop()
            if self.left[node] < 0:
                vector = acc.copy()
                vector[n_features] = self.value[0]
                self.leaves[node] = vector * self.scale
                continue
            for child in (self.left[node], self.right[node]):
                moved = acc.copy()
                moved[self.feature[node]] += self.value[child] - self.value[node]
                stack.append((int(child), moved))

    def route(self, X: np.ndarray) -> np.ndarray:
        """The leaf each row reaches (x <= threshold goes left), in float64 as the library compares."""
        node = np.zeros(len(X), dtype=np.int64)
        active = self.left[node] >= 0
        while active.any():
            rows = np.nonzero(active)[0]
            at = node[rows]
            values = X[rows, self.feature[at]]
            go_left = values < self.threshold[at] if self.mode == "BRANCH_LT" else values <= self.threshold[at]
            if self.nan_left is not None:
                go_left = np.where(np.isnan(values), self.nan_left[at], go_left)
            node[rows] = np.where(go_left, self.left[at], self.right[at])
            active = self.left[node] >= 0
        return node


@dataclass
class Attribution:
    """How a fitted model's raw output splits over its features; `method` and `output` say what."""

    method: str
    output: str  # "probability" or "log-odds"
    n_features: int
    trees: list[Tree] | None = None
    base: float = 0.0
    forest: Any = None  # a RandomForestClassifier: its own `apply` routes the reference
    linear: tuple[np.ndarray, np.ndarray, float] | None = None  # weights, means, bias (the output at the means)
    computed: Callable[[np.ndarray], np.ndarray] | None = None  # a model computing its own (outliers)
    details: dict[str, float] = field(default_factory=dict)  # what turns the output into a score, if not the output

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Reference contributions, `(rows, n_features + 1)`, the bias last."""
        X64 = np.asarray(X, dtype=np.float32).astype(np.float64)
        if self.computed is not None:
            return np.asarray(self.computed(X64), dtype=np.float64)
        if self.linear is not None:
            weights, means, intercept = self.linear
            out = np.empty((len(X64), self.n_features + 1))
            out[:, :-1] = (X64 - means) * weights
            out[:, -1] = intercept
            return out
        assert self.trees is not None
        out = np.zeros((len(X64), self.n_features + 1))
        leaves = self.forest.apply(np.asarray(X, dtype=np.float32)) if self.forest is not None else None
        for t, tree in enumerate(self.trees):
            reached = leaves[:, t] if leaves is not None else tree.route(X64)
            out += np.stack([tree.leaves[int(leaf)] for leaf in reached])
        out[:, -1] += self.base
        return out

    def to_onnx(self) -> bytes | None:
        """The graph: float32 features `X` in, `contributions` `(rows, n_features + 1)` out (None:
        the model computes its own)."""
        if self.computed is not None:
            return None
        X = helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, self.n_features])
        Y = helper.make_tensor_value_info("contributions", TensorProto.FLOAT, [None, self.n_features + 1])
        nodes = self._linear_nodes() if self.linear is not None else self._tree_nodes()
        initializers = self._linear_initializers() if self.linear is not None else []
        graph = helper.make_graph(nodes, "explain", [X], [Y], initializer=initializers)
        model = helper.make_model(graph, opset_imports=OPSET, producer_name="arbiter")
        onnx.checker.check_model(model)
        return model.SerializeToString()

    def _tree_nodes(self) -> list[onnx.NodeProto]:
        assert self.trees is not None
        attrs: dict[str, list[Any]] = {k: [] for k in (
            "nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
            "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
            "target_treeids", "target_nodeids", "target_ids", "target_weights")}
        for t, tree in enumerate(self.trees):
            for node in range(len(tree.left)):
                leaf = tree.left[node] < 0
                attrs["nodes_treeids"].append(t)
                attrs["nodes_nodeids"].append(node)
                attrs["nodes_featureids"].append(0 if leaf else int(tree.feature[node]))
                attrs["nodes_values"].append(0.0 if leaf else float(tree.threshold[node]))
                attrs["nodes_modes"].append("LEAF" if leaf else tree.mode)
                attrs["nodes_truenodeids"].append(0 if leaf else int(tree.left[node]))
                attrs["nodes_falsenodeids"].append(0 if leaf else int(tree.right[node]))
                attrs["nodes_missing_value_tracks_true"].append(
                    int(tree.nan_left[node]) if tree.nan_left is not None and not leaf else 0)
                if leaf:
                    for target, weight in enumerate(tree.leaves[node]):
                        if weight != 0.0:
                            attrs["target_treeids"].append(t)
                            attrs["target_nodeids"].append(node)
                            attrs["target_ids"].append(target)
                            attrs["target_weights"].append(float(weight))
        # thresholds, weights and the sum in double, as the library compares and adds (float32 would
        # lose 1e-5 over a few hundred boosting trees)
        doubles = {f"{name}_as_tensor": helper.make_tensor(f"{name}_as_tensor", TensorProto.DOUBLE,
                                                            [len(attrs[name])], attrs.pop(name))
                   for name in ("nodes_values", "target_weights")}
        bases = [0.0] * self.n_features + [self.base]
        doubles["base_values_as_tensor"] = helper.make_tensor("base_values_as_tensor", TensorProto.DOUBLE,
                                                              [len(bases)], bases)
        return [helper.make_node("Cast", ["X"], ["X64"], to=TensorProto.DOUBLE),
                helper.make_node("TreeEnsembleRegressor", ["X64"], ["contributions"], domain="ai.onnx.ml",
                                 n_targets=self.n_features + 1, aggregate_function="SUM", post_transform="NONE",
                                 **attrs, **doubles)]

    def _linear_nodes(self) -> list[onnx.NodeProto]:
        return [helper.make_node("Sub", ["X", "means"], ["centred"]),
                helper.make_node("Mul", ["centred", "weights"], ["parts"]),
                helper.make_node("Shape", ["X"], ["shape"]),
                helper.make_node("Slice", ["shape", "zero", "one"], ["rows"]),
                helper.make_node("Concat", ["rows", "one"], ["bias_shape"], axis=0),
                helper.make_node("Expand", ["intercept", "bias_shape"], ["bias"]),
                helper.make_node("Concat", ["parts", "bias"], ["contributions"], axis=1)]

    def _linear_initializers(self) -> list[onnx.TensorProto]:
        assert self.linear is not None
        weights, means, intercept = self.linear
        return [helper.make_tensor("means", TensorProto.FLOAT, [self.n_features], means.astype(np.float32)),
                helper.make_tensor("weights", TensorProto.FLOAT, [self.n_features], weights.astype(np.float32)),
                helper.make_tensor("intercept", TensorProto.FLOAT, [1, 1], [float(intercept)]),
                helper.make_tensor("zero", TensorProto.INT64, [1], [0]),
                helper.make_tensor("one", TensorProto.INT64, [1], [1])]


def attribution_of(estimator: Any, n_features: int) -> Attribution | None:
    """The attribution of a fitted scikit-learn model (None: no such method for it here)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest, RandomForestClassifier
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, RandomForestClassifier):
        trees = []
        for member in estimator.estimators_:
            t = member.tree_
            share = t.value[:, 0, :] / np.maximum(t.value[:, 0, :].sum(axis=1, keepdims=True), 1e-300)
            trees.append(Tree(t.feature.astype(np.int64), t.threshold.astype(np.float64),
                               t.children_left.astype(np.int64), t.children_right.astype(np.int64),
                               share[:, 1].astype(np.float64), 1.0 / len(estimator.estimators_)))
        return attributed(Attribution("path attribution (Saabas), averaged over the forest's trees",
                                       "probability", n_features, trees=trees, forest=estimator))
    if isinstance(estimator, HistGradientBoostingClassifier) and estimator.n_trees_per_iteration_ == 1:
        trees = [_boosted_tree(predictors[0].nodes) for predictors in estimator._predictors]
        return attributed(Attribution("path attribution (Saabas), summed over the boosting iterations",
                                       "log-odds", n_features, trees=trees,
                                       base=float(np.ravel(estimator._baseline_prediction)[0])))
    if isinstance(estimator, IsolationForest):
        return _isolation_attribution(estimator, n_features)
    if isinstance(estimator, Pipeline) and [name for name, _ in estimator.steps] == ["scale", "logreg"]:
        scaler, logreg = estimator.named_steps["scale"], estimator.named_steps["logreg"]
        weights = logreg.coef_[0] / scaler.scale_
        return Attribution("coefficient x (value - training mean)", "log-odds", n_features,
                           linear=(weights, scaler.mean_.astype(np.float64), float(logreg.intercept_[0])))
    return None


def _isolation_attribution(estimator: Any, n_features: int) -> Attribution:
    """An isolation forest's mean depth, negated (a shorter path is more unusual), split over the features
    by path attribution. A leaf's depth is the library's own (`_decision_path_lengths` plus
    `_average_path_length_per_tree` - 1, as `score_samples` adds them); a node's, its children's
    weighted by their training samples. Each tree's features are the forest's columns it was given."""
    from sklearn.ensemble._iforest import _average_path_length

    trees = []
    for t, (member, columns) in enumerate(zip(estimator.estimators_, estimator.estimators_features_, strict=True)):
        tree = member.tree_
        left, right = tree.children_left.astype(np.int64), tree.children_right.astype(np.int64)
        samples = tree.weighted_n_node_samples.astype(np.float64)
        value = -(np.asarray(estimator._decision_path_lengths[t], dtype=np.float64)
                  + np.asarray(estimator._average_path_length_per_tree[t], dtype=np.float64) - 1.0)
        for node in range(len(left) - 1, -1, -1):  # children are numbered after their parents
            if left[node] >= 0:
                w = samples[left[node]] + samples[right[node]]
                value[node] = (samples[left[node]] * value[left[node]] + samples[right[node]] * value[right[node]]) / w
        feature = np.where(tree.feature >= 0, np.asarray(columns)[np.maximum(tree.feature, 0)], 0).astype(np.int64)
        # averaged over the trees: the bias stays a few units, which float32 output keeps to 1e-6
        trees.append(Tree(feature, tree.threshold.astype(np.float64), left, right, value,
                          1.0 / len(estimator.estimators_)))
    depth_scale = float(_average_path_length([estimator.max_samples_])[0])
    return attributed(Attribution("path attribution (Saabas) of the mean isolation depth, negated: a shorter path is "
                                  "more unusual", "negated isolation depth", n_features, trees=trees,
                                  details={"depth_scale": depth_scale, "offset": float(estimator.offset_)}))


def _boosted_tree(nodes: np.ndarray) -> Tree:
    leaf = nodes["is_leaf"].astype(bool)
    left = np.where(leaf, -1, nodes["left"].astype(np.int64))
    right = np.where(leaf, -1, nodes["right"].astype(np.int64))
    value = nodes["value"].astype(np.float64).copy()
    count = nodes["count"].astype(np.float64)
    for node in np.argsort(-nodes["depth"], kind="stable"):  # children before parents
        if not leaf[node]:
            total = max(count[left[node]] + count[right[node]], 1.0)
            value[node] = (count[left[node]] * value[left[node]] + count[right[node]] * value[right[node]]) / total
    return Tree(nodes["feature_idx"].astype(np.int64), nodes["num_threshold"].astype(np.float64), left, right,
                 value, 1.0)


def attributed(attribution: Attribution) -> Attribution:
    """The attribution with each tree's leaf contributions worked out."""
    for tree in attribution.trees or []:
        tree.attribute(attribution.n_features)
    return attribution


# ---- serving: the graph, grouped by input, in words ----------------------------------------------

LABELS = {  # what a derived or raw feature speaks of, for a person (never its value)
    "email_domain": "email domain",
    "zip_ip_distance_km": "distance between the stated zip code and the IP's location",
    "ssn_reuse": "SSN used in other applications",
    "device_reuse": "device used in other applications",
    "age_years": "applicant's age",
    "hour_of_day": "time of day",
    "income": "stated income",
    "requested_limit": "requested credit limit",
    "employment": "employment status",
    "channel": "application channel",
    "Amount": "transaction amount",
    "Time": "time of the transaction",
}


def source_of(feature: str) -> str:
    """The input a model feature comes from: `channel=web` and `income__missing` speak of `channel`, `income`."""
    return feature.split("=", 1)[0].removesuffix("__missing")


def label_of(source: str) -> str:
    if source in LABELS:
        return LABELS[source]
    if source[:1] == "V" and source[1:].isdigit():
        return f"anonymised transaction component {source}"
    return source.replace("_", " ")


RAISED = "{} raised the fraud score"
UNUSUAL = "{} is unlike the usual traffic"  # an outlier score's reasons: unusual, not evidence of fraud
OUTLIER_OUTPUTS = ("distance ratio", "negated isolation depth")


class Explainer:
    """A bundle's contributions (its graph, or the model's own), and how its columns group into
    inputs a person knows."""

    def __init__(self, compute: Callable[[np.ndarray], np.ndarray], feature_names: list[str], top: int = 3,
                 wording: str = RAISED, output: str = "probability",
                 score_transform: dict[str, Any] | None = None, details: dict[str, Any] | None = None) -> None:
        self.compute = compute
        self.top = top
        self.output, self.score_transform, self.details = output, score_transform, details
        self.sources = list(dict.fromkeys(source_of(n) for n in feature_names))
        index = {s: i for i, s in enumerate(self.sources)}
        self.group_of = [index[source_of(n)] for n in feature_names]  # feature column -> its input
        self.ungrouped = self.group_of == list(range(len(feature_names)))
        self.texts = [wording.format(label_of(s)) for s in self.sources]

    @classmethod
    def from_graph(cls, graph: bytes | str, feature_names: list[str], top: int = 3, **kwargs: Any) -> Explainer:
        """The explainer of a contribution graph (`explain.onnx`), one onnxruntime thread."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
        session = ort.InferenceSession(graph, sess_options=options, providers=["CPUExecutionProvider"])
        return cls(lambda X: session.run(None, {"X": X})[0], feature_names, top, **kwargs)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per feature (and the bias, last) for a float32 feature matrix."""
        return self.compute(np.ascontiguousarray(X, dtype=np.float32))

    def score(self, contributions: np.ndarray) -> np.ndarray:
        """The fraud scores the contributions stand for (plus the bias, they are the model's output:
        `score_from_contributions`), each row's sum taken in float64 as `score_and_explain` takes it."""
        return self.score_and_explain(contributions, 0)[0]

    def score_and_explain(self, contributions: np.ndarray, top: int | None = None
                          ) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
        """The scores and the explanations from one pass over the rows (`top` 0: scores only)."""
        rows = contributions.tolist()
        totals = np.array([sum(row) for row in rows], dtype=np.float64)
        scores = score_from_contributions(totals, self.output, self.score_transform, self.details)
        return scores, (self._explain(rows, self.top if top is None else top) if top != 0 else [])

    def _explain(self, rows: list[list[float]], k: int) -> list[list[dict[str, Any]]]:
        """Plain Python over a row's few dozen floats: cheaper than numpy's per-call overhead for the
        gateway's one application."""
        out = []
        width = len(self.sources)
        for row in rows:
            if self.ungrouped:  # one column per input: the row itself (the bias, last, left out)
                totals = row[:width]
            else:
                totals = [0.0] * width
                for group, value in zip(self.group_of, row, strict=False):  # the bias, last, has no group
                    totals[group] += value
            best = sorted(range(width), key=totals.__getitem__, reverse=True)[:k]
            out.append([{"feature": self.sources[i], "contribution": round(totals[i], 6), "text": self.texts[i]}
                        for i in best if totals[i] > 0])
        return out


def score_from_contributions(total: np.ndarray, output: str, score_transform: dict[str, Any] | None,
                             details: dict[str, Any] | None = None) -> np.ndarray:
    """The score that contributions plus bias (`total`, per row) stand for: a probability as is (in
    [0, 1]), log-odds through the logistic, an outlier's distance ratio through the bundle's score
    transform, an isolation forest's negated mean depth through its decision function
    (-2^(total / depth_scale) - offset) and then the transform."""
    total = np.asarray(total, dtype=np.float64)
    if output == "log-odds":
        return 1.0 / (1.0 + np.exp(-np.clip(total, -500.0, 500.0)))
    if output == "distance ratio":
        assert score_transform is not None
        return to_score(total, score_transform)
    if output == "negated isolation depth":
        assert score_transform is not None and details is not None
        raw = -np.exp2(total / float(details["depth_scale"])) - float(details["offset"])
        return to_score(raw, score_transform)
    return np.minimum(np.maximum(total, 0.0), 1.0)


def explainer_for(manifest: dict[str, Any], feature_names: list[str], graph_dir: Any = None,
                  own: Callable[[np.ndarray], np.ndarray] | None = None) -> Explainer | None:
    """The explainer a manifest's `explanation` describes: its graph (a file in `graph_dir`) or the
    model's own `contributions` (`own`); None when the bundle explains nothing or `own` is missing."""
    described = manifest.get("explanation")
    if not described:
        return None
    kwargs = {"output": described.get("output", "probability"),
              "score_transform": manifest.get("serving", {}).get("score_transform"),
              "details": described.get("details"),
              "wording": UNUSUAL if described.get("output") in OUTLIER_OUTPUTS else RAISED}
    top = int(described.get("top", 3))
    if described.get("file"):
        return Explainer.from_graph(str(graph_dir / described["file"]), feature_names, top, **kwargs)
    if own is None:
        return None
    return Explainer(own, feature_names, top, **kwargs)


def as_pairs(explanation: Sequence[Any] | None) -> list[list[Any]] | None:
    """An explanation as stored and published: [feature, contribution] pairs (the texts follow from
    the features: `label_of`); None when a rule decided or the model has no contribution graph.
    Takes the response's form (dicts) or pairs already."""
    pairs = [[e["feature"], e["contribution"]] if isinstance(e, dict) else list(e) for e in explanation or ()]
    pairs = [p for p in pairs if p[1] is not None]
    return pairs or None
