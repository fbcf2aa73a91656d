"""Reference distributions for drift monitoring, recorded in a bundle's manifest.

The `model_drift` view compares what a model sees in production with these: the population
stability index (PSI) over decile bins of the model's score and of its most important raw
numeric input fields. The bins are the deciles of the reference data (ties merged), open at
both ends, each closed on the left: a value v falls in bin i when edge[i] <= v < edge[i+1].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from models.schema import NUMERIC_KINDS, Detector

BINS = 10
TOP_FEATURES = 5
PSI_FLOOR = 1e-4  # an empty bin counts as this share, so one empty bin does not make PSI infinite


def decile_bins(values: np.ndarray, bins: int = BINS) -> dict[str, Any]:
    """Quantile bin edges of `values` (NaN ignored) and the share of values in each bin."""
    present = np.asarray(values, dtype=np.float64)
    present = present[~np.isnan(present)]
    if present.size == 0:
        return {"bin_edges": [], "bin_share": [], "rows": 0}
    edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)))
    if edges.size < 2:
        return {"bin_edges": edges.tolist(), "bin_share": [1.0], "rows": int(present.size)}
    return {"bin_edges": edges.tolist(), "bin_share": bin_shares(present, edges).tolist(), "rows": int(present.size)}


def bin_shares(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Share of `values` in each open-ended bin of `edges` (the semantics of the view)."""
    inner = np.asarray(edges[1:-1], dtype=np.float64)
    index = np.searchsorted(inner, values, side="right")
    counts = np.bincount(index, minlength=len(edges) - 1)
    return counts / max(len(values), 1)


def psi(expected: Sequence[float], actual: Sequence[float], floor: float = PSI_FLOOR) -> float:
    """Population stability index: sum over bins of (actual - expected) * ln(actual / expected)."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), floor)
    a = np.maximum(np.asarray(actual, dtype=np.float64), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def drift_candidates(detector: Detector, importance: Sequence[Mapping[str, Any]] | None,
                     kept: Sequence[str], top: int = TOP_FEATURES) -> list[str]:
    """The raw numeric, non-PII input fields the model uses, most important first, at most `top`.

    Only raw fields: the view reads them from the stored application payload, where derived
    features do not exist. `importance` is the manifest's ranked list of {feature, importance}."""
    eligible = {f.name for f in detector.fields
                if f.kind in NUMERIC_KINDS and not f.pii and f.name not in (detector.label, detector.time_field)}
    eligible &= set(kept)
    ranked: list[str] = []
    for item in importance or []:
        base = str(item["feature"]).removesuffix("__missing")
        if base in eligible and base not in ranked:
            ranked.append(base)
    ranked += sorted(eligible - set(ranked))
    return ranked[:top]


def drift_reference(detector: Detector, scores: np.ndarray, score_window: str,
                    training_stats: Mapping[str, Mapping[str, Any]],
                    importance: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
    """The manifest's `drift_reference` section: the score's bins on `score_window`, and the
    training-window bins (`FeatureBuilder.training_stats`) of the top raw input fields."""
    fields = drift_candidates(detector, importance, list(training_stats))
    return {
        "bins": BINS,
        "psi_floor": PSI_FLOOR,
        "score": {**decile_bins(scores), "window": score_window},
        "features": [{"name": name, **training_stats[name], "window": "training"} for name in fields],
    }


def reference_rows(drift: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The manifest's `drift_reference` as rows of (kind, variable, bin, lower_edge, upper_edge,
    expected_share), the first bin open below and the last open above; variables with one bin
    (constant in the reference data) are left out, they cannot drift in a measurable way."""
    if not drift:
        return []
    variables = [("score", "score", drift.get("score") or {})]
    variables += [("feature", f["name"], f) for f in drift.get("features") or []]
    rows = []
    for kind, name, ref in variables:
        edges, shares = ref.get("bin_edges") or [], ref.get("bin_share") or []
        if len(shares) < 2 or len(edges) != len(shares) + 1:
            continue
        for i, share in enumerate(shares):
            rows.append({"kind": kind, "variable": name, "bin": i,
                         "lower_edge": float(edges[i]) if i > 0 else None,
                         "upper_edge": float(edges[i + 1]) if i < len(shares) - 1 else None,
                         "expected_share": float(share)})
    return rows
