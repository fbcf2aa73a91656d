"""Certification: the served scores must equal the training library's own, within a tolerance; and
where the bundle explains its decisions, so must the served contributions (against the library's
own path attributions), which with their bias must add up to the served score."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.bundle import CERTIFICATION
from models.runtimes import OpenedBundle, load_runtime, open_bundle

DEFAULT_TOLERANCE = 1e-5


@dataclass(frozen=True)
class CertificationResult:
    runtime: str
    rows: int
    max_abs_diff: float
    tolerance: float
    reference: str
    explanation_max_abs_diff: float | None = None  # served contributions against the library's own
    explanation_sum_diff: float | None = None  # contributions + bias against the served score

    @property
    def passed(self) -> bool:
        explained = self.explanation_max_abs_diff is None or (
            self.explanation_max_abs_diff <= self.tolerance and (self.explanation_sum_diff or 0.0) <= self.tolerance)
        return self.rows > 0 and self.max_abs_diff <= self.tolerance and explained

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"passed": self.passed}


def certify(bundle: str | Path | OpenedBundle, runtime: str | None = None,
            tolerance: float = DEFAULT_TOLERANCE, identity_key: bytes | None = None) -> CertificationResult:
    """Score the bundle's certification rows with `runtime` (its transforms under `identity_key`)
    and compare to the recorded scores."""
    opened = bundle if isinstance(bundle, OpenedBundle) else open_bundle(bundle, identity_key)
    served = load_runtime(opened, runtime)
    examples = json.loads((opened.path / CERTIFICATION).read_text())
    expected = np.asarray(examples["expected_scores"], dtype=np.float64)
    got = served.score_records(examples["rows"])
    diff = float(np.max(np.abs(got - expected))) if len(expected) else float("inf")
    if not np.all(np.isfinite(got)):
        diff = float("inf")
    explained = _explanation_diffs(served, examples, expected) if served.explainer is not None else (None, None)
    return CertificationResult(served.kind, len(expected), diff, tolerance, examples.get("reference", ""), *explained)


def _explanation_diffs(served: Any, examples: dict[str, Any], scores: np.ndarray) -> tuple[float, float]:
    """(max |served - expected contribution|, max |score from contributions + bias - the library's
    score|): the explained path serves that score (`Runtime.score_and_explain`), so it is held to the
    same tolerance as the model's graph; infinite when the bundle lacks the expected contributions."""
    expected = np.asarray(examples.get("expected_contributions") or [], dtype=np.float64)
    X = served.features.transform_records(examples["rows"])
    got = served.explainer.contributions(X).astype(np.float64)
    if expected.shape != got.shape:
        return float("inf"), float("inf")
    rebuilt = served.explainer.score(got)  # exactly as serving computes it
    return float(np.max(np.abs(got - expected))), float(np.max(np.abs(rebuilt - scores)))
