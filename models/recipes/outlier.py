"""`dbscan-outlier`: the real-time DBSCAN outlier detector of seed 002, as a scorer.

DBSCAN calls a point a core point when at least `min_samples` points lie within `eps` of it;
points of no dense region are noise: the outliers. Fitting learns the training window's dense
regions on a few chosen features (V4, V12, V14 for transactions, as in the seed) and picks eps
at the knee of the sorted k-nearest-neighbour distances (the usual DBSCAN heuristic), recording
that curve and the choice. Scoring a new point asks how far its `min_samples` nearest training
neighbours lie: the raw output is the distance to the farthest of them divided by eps (at most 1:
the point would join a dense region; beyond 1, how far beyond), mapped to [0, 1] by a logistic
centred on 1. A KD-tree answers the neighbour queries for a whole batch at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.neighbors import KDTree

from models.explain import Attribution
from models.recipes.base import FittedModel, Progress, Recipe

SEED_FEATURES = ("V4", "V12", "V14")
AUTO_FEATURES = 3
CURVE_POINTS = 200


class DbscanOutlierModel:
    """Standardise the chosen columns, then the distance ratio to the k-th nearest reference point."""

    def __init__(self, columns: list[int], center: np.ndarray, scale: np.ndarray, reference: np.ndarray,
                 min_samples: int, eps: float) -> None:
        self.columns, self.center, self.scale = columns, center, scale
        self.min_samples, self.eps = min_samples, eps
        self.tree = KDTree(reference, leaf_size=40)

    def standardise(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64)[:, self.columns] - self.center) / self.scale

    def distance_ratio(self, X: np.ndarray) -> np.ndarray:
        """How far the `min_samples` nearest training neighbours lie, in units of eps (vectorised)."""
        if len(X) == 0:
            return np.empty(0)
        distances, _ = self.tree.query(self.standardise(X), k=self.min_samples)
        return distances[:, -1] / self.eps

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Each chosen feature's share of the squared standardised distance to the `min_samples`-th
        neighbour, times the distance ratio; `(rows, n_features + 1)`, the bias (0) last. They add
        up to `distance_ratio`."""
        X = np.asarray(X, dtype=np.float64)
        out = np.zeros((len(X), X.shape[1] + 1))
        if len(X) == 0:
            return out
        z = self.standardise(X)
        _, index = self.tree.query(z, k=self.min_samples)
        squares = (z - np.asarray(self.tree.data)[index[:, -1]]) ** 2
        total = squares.sum(axis=1, keepdims=True)
        ratio = np.sqrt(total) / self.eps
        out[:, self.columns] = np.divide(squares, total, out=np.zeros_like(squares), where=total > 0) * ratio
        return out


def knee_index(curve: np.ndarray) -> int:
    """The knee of an increasing curve: the point farthest below the chord from its first to its
    last point, both axes scaled to [0, 1] (the Kneedle idea)."""
    n = len(curve)
    if n < 3 or curve[-1] == curve[0]:
        return n // 2
    x = np.linspace(0.0, 1.0, n)
    y = (curve - curve[0]) / (curve[-1] - curve[0])
    return int(np.argmax(x - y))


def choose_features(names: list[str], X: np.ndarray, y: np.ndarray, wanted: str) -> list[str]:
    """The columns to cluster on: `wanted` (comma-separated names), the seed's V4,V12,V14 where the
    detector has them, or else the three numeric columns that best separate fraud in training."""
    if wanted != "auto":
        chosen = [n.strip() for n in wanted.split(",") if n.strip()]
        unknown = [n for n in chosen if n not in names]
        if unknown or not chosen:
            raise ValueError(f"dbscan-outlier: features {', '.join(unknown) or wanted!r} are not model features; "
                             f"choose from {', '.join(n for n in names if '=' not in n and '__' not in n)}")
        return chosen
    if all(f in names for f in SEED_FEATURES):
        return list(SEED_FEATURES)
    numeric = [i for i, n in enumerate(names) if "=" not in n and not n.endswith("__missing")]
    fraud, good = X[y == 1][:, numeric], X[y == 0][:, numeric]
    spread = np.sqrt((fraud.var(axis=0) + good.var(axis=0)) / 2) + 1e-12
    separation = np.abs(fraud.mean(axis=0) - good.mean(axis=0)) / spread
    best = np.argsort(-separation)[:AUTO_FEATURES]
    return [names[numeric[i]] for i in sorted(best)]


class DbscanOutlierRecipe(Recipe):
    name = "dbscan-outlier"
    supervised = False
    description = "DBSCAN-style outlier score (seed 002): distance of the min_samples-th neighbour beyond eps"
    artifact_name = "model.joblib"

    def default_params(self, seed: int) -> dict[str, Any]:
        return {"features": "auto", "min_samples": 10, "eps": "knee", "max_reference": 20_000,
                "slope": 4.0, "random_state": seed}

    def fit(self, X: np.ndarray, y: np.ndarray, params: dict[str, Any], progress: Progress) -> FittedModel:
        return self.fit_named(X, y, [f"f{i}" for i in range(X.shape[1])], params, progress)

    def fit_named(self, X: np.ndarray, y: np.ndarray, names: list[str], params: dict[str, Any],
                  progress: Progress) -> FittedModel:
        k = int(params["min_samples"])
        if k < 2:
            raise ValueError("dbscan-outlier: min_samples must be at least 2")
        features = choose_features(names, X, y, str(params["features"]))
        columns = [names.index(f) for f in features]
        rng = np.random.default_rng(params["random_state"])
        sample = X if len(X) <= int(params["max_reference"]) else X[rng.choice(len(X), int(params["max_reference"]),
                                                                            replace=False)]
        raw = np.asarray(sample, dtype=np.float64)[:, columns]
        center = np.median(raw, axis=0)
        scale = np.subtract(*np.percentile(raw, [75, 25], axis=0))
        scale = np.where(scale > 0, scale, raw.std(axis=0) + 1e-12)
        reference = (raw - center) / scale
        progress(0.3)
        # each reference point's distance to its k-th neighbour other than itself
        k_distance = np.sort(KDTree(reference).query(reference, k=k + 1)[0][:, -1])
        knee = knee_index(k_distance)
        eps = float(k_distance[knee]) if params["eps"] == "knee" else float(params["eps"])
        if not eps > 0:
            raise ValueError("dbscan-outlier: eps must be positive")
        progress(0.8)
        model = DbscanOutlierModel(columns, center, scale, reference, k, eps)
        shown = np.unique(np.linspace(0, len(k_distance) - 1, CURVE_POINTS).round().astype(int))
        details = {
            "features": features, "min_samples": k, "eps": eps,
            "eps_chosen_by": "knee of the sorted k-distance curve" if params["eps"] == "knee" else "given",
            "reference_rows": len(reference), "standardised_by": "median and interquartile range of the reference",
            "k_distance_curve": {"rank": shown.tolist(), "distance": np.round(k_distance[shown], 6).tolist(),
                                 "knee_rank": knee, "knee_distance": float(k_distance[knee])},
            "noise_share_in_reference": float(np.mean(k_distance > eps)),
        }
        progress(1.0)
        # raw = distance ratio; 1 (the edge of a dense region) -> 0.5, 1.5 -> 0.88 with slope 4
        transform = {"kind": "logistic", "slope": float(params["slope"]), "intercept": -float(params["slope"])}
        return FittedModel(self.name, self.flavour, model, params, transform, "scores", self.artifact_name,
                           "distance_ratio", runtime="sklearn", details=details, reads=features)

    def attribution(self, model: FittedModel, X_train: np.ndarray) -> Attribution:
        return Attribution("each feature's share of the squared standardised distance to the k-th neighbour, "
                           "times the distance ratio", "distance ratio", X_train.shape[1],
                           computed=model.estimator.contributions)

    def to_onnx(self, model: FittedModel, n_features: int) -> bytes | None:
        return None  # neighbour queries have no ONNX operator; served from the KD-tree itself

    def save_artifact(self, model: FittedModel, directory: Path) -> None:
        joblib.dump(model.estimator, directory / self.artifact_name, compress=3)
