"""scikit-learn recipes: `rf`, `logreg`, `hgb`, `isolation-forest`."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from skl2onnx import to_onnx
from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from models.explain import Attribution, attribution_of
from models.recipes.base import ONNX_OPSET, FittedModel, Progress, Recipe

PROBABILITY = {"kind": "column", "index": 1}


class _SklearnRecipe(Recipe):
    artifact_name = "model.joblib"

    def save_artifact(self, model: FittedModel, directory: Path) -> None:
        joblib.dump(model.estimator, directory / self.artifact_name, compress=3)

    def _classifier_model(self, est: Any, params: dict[str, Any]) -> FittedModel:
        return FittedModel(self.name, self.flavour, est, params, PROBABILITY, "probabilities",
                           self.artifact_name, "predict_proba")

    def attribution(self, model: FittedModel, X_train: np.ndarray) -> Attribution | None:
        return attribution_of(model.estimator, X_train.shape[1])

    def to_onnx(self, model: FittedModel, n_features: int) -> bytes:
        est = model.estimator
        final = est.steps[-1][1] if isinstance(est, Pipeline) else est
        options = {id(final): {"zipmap": False}} if model.onnx_output == "probabilities" else None
        sample = np.zeros((1, n_features), dtype=np.float32)
        return to_onnx(est, sample, options=options, target_opset=ONNX_OPSET).SerializeToString()


class RandomForestRecipe(_SklearnRecipe):
    name = "rf"
    description = "RandomForest (the seeds' model), class-balanced bootstrap samples"

    def default_params(self, seed: int) -> dict[str, Any]:
        return {"n_estimators": 100, "min_samples_leaf": 5, "max_features": "sqrt", "max_depth": None,
                "class_weight": "balanced_subsample", "random_state": seed, "n_jobs": -1}

    def fit(self, X: np.ndarray, y: np.ndarray, params: dict[str, Any], progress: Progress) -> FittedModel:
        total = int(params["n_estimators"])
        est = RandomForestClassifier(**{**params, "n_estimators": 0}, warm_start=True)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*warm_start.*")
            for done in range(min(10, total), total + 10, 10):  # grow in steps to report progress
                est.set_params(n_estimators=min(done, total))
                est.fit(X, y)
                progress(min(done, total) / total)
        est.set_params(warm_start=False)
        return self._classifier_model(est, params)

    def native_importance(self, model: FittedModel, names: list[str]) -> dict[str, float]:
        return dict(zip(names, model.estimator.feature_importances_.round(6).tolist(), strict=True))


class LogisticRecipe(_SklearnRecipe):
    name = "logreg"
    description = "standardised logistic regression, class-balanced"

    def default_params(self, seed: int) -> dict[str, Any]:
        return {"C": 1.0, "max_iter": 2000, "class_weight": "balanced"}

    def fit(self, X: np.ndarray, y: np.ndarray, params: dict[str, Any], progress: Progress) -> FittedModel:
        est = Pipeline([("scale", StandardScaler()), ("logreg", LogisticRegression(**params))])
        est.fit(X, y)
        progress(1.0)
        return self._classifier_model(est, params)

    def native_importance(self, model: FittedModel, names: list[str]) -> dict[str, float]:
        coef = np.abs(model.estimator.named_steps["logreg"].coef_[0])
        return dict(zip(names, (coef / max(coef.sum(), 1e-12)).round(6).tolist(), strict=True))


class HistGradientBoostingRecipe(_SklearnRecipe):
    name = "hgb"
    description = "histogram gradient boosting, class-balanced"

    def default_params(self, seed: int) -> dict[str, Any]:
        return {"max_iter": 200, "learning_rate": 0.08, "max_leaf_nodes": 31, "l2_regularization": 1.0,
                "class_weight": "balanced", "early_stopping": False, "random_state": seed}

    def fit(self, X: np.ndarray, y: np.ndarray, params: dict[str, Any], progress: Progress) -> FittedModel:
        est = HistGradientBoostingClassifier(**params)
        est.fit(X, y)
        progress(1.0)
        return self._classifier_model(est, params)


class IsolationForestRecipe(_SklearnRecipe):
    name = "isolation-forest"
    supervised = False
    description = "unsupervised isolation forest; score = logistic of the negated decision function"

    def default_params(self, seed: int) -> dict[str, Any]:
        return {"n_estimators": 200, "max_samples": 256, "contamination": "auto", "random_state": seed, "n_jobs": -1}

    def fit(self, X: np.ndarray, y: np.ndarray, params: dict[str, Any], progress: Progress) -> FittedModel:
        est = IsolationForest(**params).fit(X)
        spread = float(np.std(est.decision_function(X[:100_000]))) or 1.0
        progress(1.0)
        # negative decision values are outliers: map them above 0.5, one spread -> ~0.88
        transform = {"kind": "logistic", "slope": -2.0 / spread, "intercept": 0.0}
        return FittedModel(self.name, self.flavour, est, params, transform, "scores",
                           self.artifact_name, "decision_function")
