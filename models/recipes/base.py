"""The recipe interface: how to fit one kind of model and export it for serving."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.scoring import to_score

if TYPE_CHECKING:
    from models.explain import Attribution

Progress = Callable[[float], None]
ONNX_OPSET = {"": 18, "ai.onnx.ml": 3}  # ai.onnx.ml 4 is not in every onnxruntime yet


@dataclass
class FittedModel:
    """A trained model with what serving needs to know about it."""

    recipe: str
    flavour: str
    estimator: Any
    params: dict[str, Any]
    score_transform: dict[str, Any]
    onnx_output: str
    artifact_name: str
    native_method: str
    runtime: str = "onnx"  # how the platform serves it: "onnx", or "sklearn" where ONNX has no fit
    details: dict[str, Any] | None = None  # what the recipe chose while fitting, kept in the manifest
    reads: list[str] | None = None  # the features the model reads; None: all of them

    def native_raw(self, X: np.ndarray) -> np.ndarray:
        """The training library's own raw output."""
        return getattr(self.estimator, self.native_method)(X)

    def native_scores(self, X: np.ndarray) -> np.ndarray:
        """The training library's own fraud scores in [0, 1]: the certification reference."""
        return to_score(self.native_raw(X), self.score_transform)


class Recipe(ABC):
    """A named way to train a model on the feature matrix."""

    name: str
    flavour: str = "sklearn"
    supervised: bool = True
    description: str = ""

    def default_params(self, seed: int) -> dict[str, Any]:
        return {}

    def resolve_params(self, overrides: Mapping[str, Any], seed: int) -> dict[str, Any]:
        params = self.default_params(seed)
        unknown = sorted(set(overrides) - set(params))
        if unknown:
            raise ValueError(f"recipe {self.name!r} has no parameter(s) {', '.join(unknown)}; "
                             f"it takes {', '.join(sorted(params))}")
        return {**params, **{k: _coerce(params[k], v) for k, v in overrides.items()}}

    @abstractmethod
    def fit(self, X: np.ndarray, y: np.ndarray, params: dict[str, Any], progress: Progress) -> FittedModel:
        """Fit on the training window; `progress` receives the fraction done."""

    def fit_named(self, X: np.ndarray, y: np.ndarray, names: list[str], params: dict[str, Any],
                  progress: Progress) -> FittedModel:
        """`fit`, for a recipe that needs the feature names (one that works on chosen columns)."""
        return self.fit(X, y, params, progress)

    @abstractmethod
    def to_onnx(self, model: FittedModel, n_features: int) -> bytes | None:
        """The ONNX serving artifact; None for a model served by its own library (`runtime`)."""

    @abstractmethod
    def save_artifact(self, model: FittedModel, directory: Path) -> None:
        """The training library's own artifact, written into the bundle directory."""

    def attribution(self, model: FittedModel, X_train: np.ndarray) -> Attribution | None:
        """How the fitted model's output splits over its features, for per-decision explanations
        (`models.explain`); None where the recipe has no such method."""
        return None

    def native_importance(self, model: FittedModel, names: list[str]) -> dict[str, float] | None:
        """The library's own feature importance, where it has one."""
        return None

    importance_method = "permutation (drop in validation ROC-AUC)"

    def permutation_importance(self, model: FittedModel, X: np.ndarray, y: np.ndarray, names: list[str],
                               rng: np.random.Generator) -> dict[str, float]:
        """Mean drop in validation ROC-AUC per shuffled feature (`importance_method` says how)."""
        from models.importance import permutation_importance

        return permutation_importance(model, X, y, names, rng)

    def native_metrics(self, model: FittedModel, X: np.ndarray, y: np.ndarray) -> dict[str, Any] | None:
        """The training library's own metrics on the validation window, where it computes them."""
        return None


def _coerce(default: Any, value: Any) -> Any:
    if not isinstance(value, str) or isinstance(default, str):
        return value
    if value.lower() in ("none", "null"):
        return None
    if isinstance(default, bool):
        return value.lower() in ("1", "true", "yes")
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value
