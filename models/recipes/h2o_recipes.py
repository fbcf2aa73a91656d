"""H2O recipes (seed 003): `h2o-gbm`, `h2o-drf`, `h2o-glm`.

Training runs on an H2O cluster (`models.recipes.h2o_engine`): the feature matrix is uploaded,
H2O fits the model, and its MOJO goes into the bundle as the training library's artifact.
The platform serves an ONNX graph made from that model (`models.recipes.h2o_onnx`), certified
against H2O's own predictions on the certification rows like every other recipe.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.explain import Attribution
from models.recipes import h2o_engine, h2o_onnx
from models.recipes.base import FittedModel, Progress, Recipe

PROBABILITY = {"kind": "column", "index": 1}
MOJO = "model.mojo.zip"


@dataclass
class H2OTrained:
    """An H2O model on the cluster, with its MOJO downloaded next to us."""

    model: Any
    mojo: Path
    names: list[str]
    _keep: Any = field(default=None, repr=False)  # the temporary directory holding the MOJO

    def predict(self, X: np.ndarray) -> np.ndarray:
        """H2O's own [P(legit), P(fraud)] for each row, scored by the cluster."""
        fraud = h2o_engine.fraud_probability(self.model, X, self.names)
        return np.column_stack([1.0 - fraud, fraud])


class _H2ORecipe(Recipe):
    flavour = "h2o"
    importance_method = "permutation (drop in validation ROC-AUC), computed by H2O"

    def _estimator(self, params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def fit(self, X: np.ndarray, y: np.ndarray, params: dict[str, Any], progress: Progress) -> FittedModel:
        return self.fit_named(X, y, [f"f{i}" for i in range(X.shape[1])], params, progress)

    def fit_named(self, X: np.ndarray, y: np.ndarray, names: list[str], params: dict[str, Any],
                  progress: Progress) -> FittedModel:
        with h2o_engine.uploaded(X, names, y) as frame:
            estimator = self._estimator(params)
            estimator.start(x=names, y=h2o_engine.LABEL_COLUMN, training_frame=frame)
            # the job's progress (H2O's client offers it only through the job it keeps)
            estimator._job.poll(poll_updates=lambda _job, done: progress(min(float(done), 0.99)))
            estimator.join()
        keep = tempfile.TemporaryDirectory(prefix="arbiter-mojo-")
        mojo = Path(estimator.download_mojo(path=keep.name))
        progress(1.0)
        trained = H2OTrained(estimator, mojo, list(names), keep)
        details = {"h2o_model_id": estimator.model_id, "h2o_version": h2o_engine.cluster().version,
                   **self._details(estimator)}
        return FittedModel(self.name, self.flavour, trained, params, PROBABILITY, h2o_onnx.OUTPUT, MOJO,
                           "predict", details=details)

    def _details(self, estimator: Any) -> dict[str, Any]:
        return {}

    def save_artifact(self, model: FittedModel, directory: Path) -> None:
        shutil.copyfile(model.estimator.mojo, directory / MOJO)

    def native_importance(self, model: FittedModel, names: list[str]) -> dict[str, float] | None:
        table = model.estimator.model.varimp(use_pandas=False) or []
        shares = {row[0]: round(float(row[3]), 6) for row in table}  # (variable, relative, scaled, percentage)
        return {name: shares.get(name, 0.0) for name in names}

    def permutation_importance(self, model: FittedModel, X: np.ndarray, y: np.ndarray, names: list[str],
                               rng: np.random.Generator) -> dict[str, float]:
        """H2O's own permutation importance, run on the cluster (one call, not one per feature)."""
        with h2o_engine.uploaded(X, names, y) as frame, h2o_engine.quiet():
            table = model.estimator.model.permutation_importance(
                frame, metric="AUC", n_repeats=2, seed=int(rng.integers(2**31 - 1)), use_pandas=True)
        means = table.mean(axis=1)
        return {name: round(float(means.get(name, 0.0)), 6) for name in names}

    def native_metrics(self, model: FittedModel, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        """H2O's own validation metrics (`model_performance` on the validation window)."""
        with h2o_engine.uploaded(X, model.estimator.names, y) as frame:
            perf = model.estimator.model.model_performance(frame)
        threshold = perf.find_threshold_by_max_metric("f1")
        return {"source": "h2o model_performance", "roc_auc": float(perf.auc()), "pr_auc": float(perf.aucpr()),
                "logloss": float(perf.logloss()), "mse": float(perf.mse()), "gini": float(perf.gini()),
                "max_f1": float(perf.F1([threshold])[0][1]), "max_f1_threshold": float(threshold)}

    def to_onnx(self, model: FittedModel, n_features: int) -> bytes:
        raise NotImplementedError


class H2OGbmRecipe(_H2ORecipe):
    name = "h2o-gbm"
    description = "H2O gradient boosting machine (Bernoulli); served as ONNX via onnxmltools"

    def default_params(self, seed: int) -> dict[str, Any]:
        # shallow, slow and with large leaves: with fraud at 0.2% deeper trees chase single frauds
        # (validation ROC-AUC 0.75 at depth 5 / 10-row leaves vs 0.998 here, on 30,000 synthetic transactions)
        return {"ntrees": 200, "max_depth": 3, "learn_rate": 0.05, "min_rows": 50, "sample_rate": 0.8,
                "col_sample_rate": 0.8, "seed": seed}

    def _estimator(self, params: dict[str, Any]) -> Any:
        from h2o.estimators import H2OGradientBoostingEstimator

        return H2OGradientBoostingEstimator(distribution="bernoulli", **params)

    def to_onnx(self, model: FittedModel, n_features: int) -> bytes:
        return h2o_onnx.gbm_to_onnx(model.estimator.mojo, n_features)

    def attribution(self, model: FittedModel, X_train: np.ndarray) -> Attribution:
        return h2o_onnx.mojo_attribution(h2o_onnx.read_mojo_trees(model.estimator.mojo), X_train.shape[1])


class H2ODrfRecipe(_H2ORecipe):
    name = "h2o-drf"
    description = "H2O distributed random forest; its trees served as an ONNX tree ensemble"

    def default_params(self, seed: int) -> dict[str, Any]:
        return {"ntrees": 100, "max_depth": 20, "min_rows": 5, "sample_rate": 0.632, "seed": seed}

    def _estimator(self, params: dict[str, Any]) -> Any:
        from h2o.estimators import H2ORandomForestEstimator

        return H2ORandomForestEstimator(**params)

    def to_onnx(self, model: FittedModel, n_features: int) -> bytes:
        return h2o_onnx.drf_to_onnx(h2o_onnx.read_mojo_trees(model.estimator.mojo), n_features)

    def attribution(self, model: FittedModel, X_train: np.ndarray) -> Attribution:
        return h2o_onnx.mojo_attribution(h2o_onnx.read_mojo_trees(model.estimator.mojo), X_train.shape[1])


class H2OGlmRecipe(_H2ORecipe):
    name = "h2o-glm"
    description = "H2O generalized linear model (binomial, elastic net); served from its coefficients"

    def default_params(self, seed: int) -> dict[str, Any]:
        return {"alpha": 0.5, "lambda_": None, "lambda_search": False, "standardize": True, "seed": seed}

    def _estimator(self, params: dict[str, Any]) -> Any:
        from h2o.estimators import H2OGeneralizedLinearEstimator

        return H2OGeneralizedLinearEstimator(family="binomial", **params)

    def _details(self, estimator: Any) -> dict[str, Any]:
        return {"coefficients": {k: float(v) for k, v in estimator.coef().items()},
                "lambda": [float(v) for v in (estimator.actual_params.get("lambda") or [])]}

    def to_onnx(self, model: FittedModel, n_features: int) -> bytes:
        return h2o_onnx.glm_to_onnx(model.estimator.model.coef(), model.estimator.names, n_features)

    def attribution(self, model: FittedModel, X_train: np.ndarray) -> Attribution:
        means = np.asarray(X_train, dtype=np.float32).astype(np.float64).mean(axis=0)
        return h2o_onnx.glm_attribution(model.estimator.model.coef(), model.estimator.names, means)
