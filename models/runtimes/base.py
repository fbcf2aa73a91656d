"""The runtime interface: score a batch of records as one vector operation."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.bundle import FEATURES, verify_bundle
from models.detectors import get_detector
from models.errors import BundleError
from models.explain import explainer_for
from models.features import FeatureBuilder
from models.schema import Detector
from models.scoring import to_score


@dataclass(frozen=True)
class OpenedBundle:
    """A verified bundle: its manifest, detector and fitted feature transforms."""

    path: Path
    manifest: dict[str, Any]
    detector: Detector
    features: FeatureBuilder


def open_bundle(path: str | Path, identity_key: bytes | None = None) -> OpenedBundle:
    """Verify a bundle's hashes and load its feature transforms, their identity digests keyed by
    `identity_key` (the deployment's `ARBITER_PII_KEY`; the environment's by default)."""
    path = Path(path)
    manifest = verify_bundle(path)
    detector = get_detector(manifest["detector"])
    try:
        features = FeatureBuilder.from_dict(detector, json.loads((path / FEATURES).read_text()), identity_key)
    except (ValueError, KeyError) as exc:
        raise BundleError(f"bundle {path}: unusable {FEATURES}: {exc}") from None
    return OpenedBundle(path, manifest, detector, features)


class Runtime(ABC):
    """Loads one bundle and scores records with it; subclasses differ in the engine."""

    kind: str

    def __init__(self, bundle: OpenedBundle) -> None:
        self.bundle = bundle
        self.features = bundle.features
        self.score_transform = bundle.manifest["serving"]["score_transform"]
        # a graph beside the model; a runtime whose model computes its own sets it once loaded
        self.explainer = explainer_for(bundle.manifest, self.features.feature_names, bundle.path)

    @abstractmethod
    def raw(self, X: np.ndarray) -> np.ndarray:
        """The engine's raw output for a float32 feature matrix."""

    def score_matrix(self, X: np.ndarray) -> np.ndarray:
        return to_score(self.raw(np.ascontiguousarray(X, dtype=np.float32)), self.score_transform)

    def score_and_explain(self, records: Sequence[Mapping[str, Any]], top: int | None = None
                          ) -> tuple[np.ndarray, list[list[dict[str, Any]]] | None]:
        """Scores and, when the bundle explains its decisions, each row's explanation (at most
        `top` inputs; the bundle's default when None), the features built once for both.
        Explained, the score is the contributions' sum: contributions plus bias are the model's
        output (certified at registration against the library's own scores), so one call of the
        contribution graph answers both, instead of one call of each graph."""
        if not records:
            return np.empty(0), [] if self.explainer else None
        X = np.ascontiguousarray(self.features.transform_records(records), dtype=np.float32)
        if self.explainer is None:
            return self.score_matrix(X), None
        return self.explainer.score_and_explain(self.explainer.contributions(X), top)

    def score_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Fraud scores in [0, 1] for validated records, one vector call for the batch."""
        if not records:
            return np.empty(0)
        return self.score_matrix(self.features.transform_records(records))
