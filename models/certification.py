"""Certification: the served scores must equal the training library's own, within a tolerance."""

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

    @property
    def passed(self) -> bool:
        return self.rows > 0 and self.max_abs_diff <= self.tolerance

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
    return CertificationResult(served.kind, len(expected), diff, tolerance, examples.get("reference", ""))
