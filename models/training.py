"""Training: data in, a governed and certified model bundle out.

time split -> data quality -> fit features (training window) -> fit the recipe ->
validate on the later window -> feature importance -> ONNX export -> certification
examples -> manifest -> bundle (written atomically; nothing at all if a gate fails).
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from models.bundle import CERTIFICATION, FEATURES, ONNX_MODEL, dumps, staging_dir, write_bundle
from models.certification import DEFAULT_TOLERANCE, certify
from models.dataio import TIME_COLUMN
from models.drift import drift_reference
from models.errors import DataError, TrainingGateError
from models.explain import EXPLAIN_MODEL
from models.features import FeatureBuilder, columns_from_frame, epoch_seconds
from models.metrics import best_f1_threshold, classification_report
from models.quality import data_quality
from models.recipes.base import Recipe
from models.schema import Detector
from models.segments import FAIRNESS, dimensions, fairness_evidence
from models.stand_ins import stand_in

StageProgress = Callable[[str, float], None]
STAGES = {"features": 0.10, "fit": 0.60, "validate": 0.10, "importance": 0.10, "export": 0.10}
CERTIFICATION_ROWS = 300
# 0..0.9 by 0.01, to 0.99 by 0.001, to 1 by 0.0001: fraud strategies decline a percent or less
QUANTILE_LEVELS = sorted({round(float(v), 6) for v in (*np.linspace(0, 0.9, 91), *np.linspace(0.9, 0.99, 91),
                                                       *np.linspace(0.99, 1.0, 101))})
IMPORTANCE_ROWS = 3000  # permutation importance: features x 2 repeats scorings of this many rows
LIBRARIES = ("scikit-learn", "numpy", "pandas", "onnx", "onnxruntime", "skl2onnx", "onnxmltools", "h2o")


@dataclass
class TrainingResult:
    bundle_dir: Path
    manifest: dict[str, Any]
    seconds: float


def _no_progress(stage: str, fraction: float) -> None:
    return None


def parse_time(value: str | float, detector: Detector) -> float:
    """A `--train-until` value in the detector's time unit (seconds, or ISO 8601)."""
    parsed = epoch_seconds(np.array([value], dtype=object), detector.time_kind)[0]
    if np.isnan(parsed):
        unit = "seconds" if detector.time_kind == "seconds" else "an ISO 8601 date/time"
        raise DataError(f"--train-until {value!r} is not {unit}")
    return float(parsed)


def format_time(seconds: float, detector: Detector) -> str | float:
    if detector.time_kind == "seconds":
        return float(seconds)
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def split_by_time(frame: pd.DataFrame, detector: Detector,
                  train_until: float | None) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Training window (time < cut) and the later validation window (time >= cut)."""
    times = frame[TIME_COLUMN].to_numpy()
    cut = float(np.quantile(times, 0.75)) if train_until is None else train_until
    train, valid = frame[times < cut], frame[times >= cut]
    label = detector.label
    if train.empty or valid.empty:
        raise DataError(f"the time split at {format_time(cut, detector)} leaves an empty "
                        f"{'training' if train.empty else 'validation'} window")
    for name, part in (("training", train), ("validation", valid)):
        if part[label].nunique() < 2:
            raise DataError(f"the {name} window ({len(part)} rows) holds only one class of {label!r}; "
                            "use more data or another --train-until")
    return train, valid, cut


def _window(part: pd.DataFrame, detector: Detector) -> dict[str, Any]:
    times = part[TIME_COLUMN]
    return {"from": format_time(times.min(), detector), "to": format_time(times.max(), detector),
            "rows": len(part), "positives": int(part[detector.label].sum())}


def _stratified_sample(y: np.ndarray, positives: int, total: int, rng: np.random.Generator) -> np.ndarray:
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    pos = rng.permutation(pos)[:positives]
    neg = rng.permutation(neg)[: max(total - pos.size, 0)]
    return np.sort(np.concatenate([pos, neg]))


def ranked(importance: Mapping[str, float] | None) -> list[dict[str, Any]] | None:
    """Importance as a ranked list (JSON objects lose their order in canonical form)."""
    if importance is None:
        return None
    ordered = sorted(importance.items(), key=lambda kv: -kv[1])
    return [{"feature": k, "importance": v} for k, v in ordered]


def json_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """One row as JSON data: NaN, NA and None as None, numpy scalars as Python numbers."""
    clean: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, float | np.floating) and not np.isfinite(value):
            clean[key] = None
        elif isinstance(value, np.generic):
            clean[key] = value.item()
        elif value is pd.NA or value is None:
            clean[key] = None
        else:
            clean[key] = value
    return clean


def _validation_fairness(detector: Detector, part: pd.DataFrame, scores: np.ndarray,
                         labels: np.ndarray) -> dict[str, Any] | None:
    """The validation window's fairness evidence (`models.segments.fairness_evidence`)."""
    if not set(dimensions(detector)) & set(FAIRNESS):
        return None
    wanted = [c for c in ("date_of_birth", "zip", "submitted_at") if c in part.columns]
    records = part[wanted].to_dict(orient="records")
    moments = [format_time(t, detector) for t in part[TIME_COLUMN]]
    evidence = fairness_evidence(detector, records, moments, scores, labels)
    return None if evidence is None else {"window": "validation", **evidence}


def _library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for lib in LIBRARIES:
        with suppress(metadata.PackageNotFoundError):
            versions[lib] = metadata.version(lib)
    return versions


def train(detector: Detector, recipe: Recipe, frame: pd.DataFrame, out_dir: str | Path, *,
          train_until: float | None = None, min_auc: float | None = None, params: Mapping[str, Any] | None = None,
          seed: int = 0, name: str | None = None, progress: StageProgress = _no_progress,
          identity_key: bytes | None = None) -> TrainingResult:
    """Train `recipe` on `frame` (from `models.dataio`) and write a certified bundle to `out_dir`.
    Identity digests (reuse tables) are keyed by `identity_key`: the deployment's `ARBITER_PII_KEY`
    (the environment's by default); the bundle records only its fingerprint."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise DataError(f"output directory {out_dir} is not empty; bundles are immutable")
    rng = np.random.default_rng(seed)
    resolved = recipe.resolve_params(params or {}, seed)
    train_part, valid_part, cut = split_by_time(frame, detector, train_until)
    label = detector.label

    progress("features", 0.0)
    features = FeatureBuilder(detector).fit(columns_from_frame(train_part), identity_key)
    X_train = features.transform(columns_from_frame(train_part), reference_rows=True)
    X_valid = features.transform(columns_from_frame(valid_part))
    y_train, y_valid = train_part[label].to_numpy(), valid_part[label].to_numpy()
    names = features.feature_names
    progress("features", 1.0)

    fitted = recipe.fit_named(X_train, y_train, names, resolved, lambda f: progress("fit", f))

    progress("validate", 0.0)
    valid_scores = fitted.native_scores(X_valid)
    threshold = best_f1_threshold(y_valid, valid_scores)
    validation = classification_report(y_valid, valid_scores, threshold)
    in_sample = _stratified_sample(y_train, 2000, 100_000, rng)
    train_auc = float(roc_auc_score(y_train[in_sample], fitted.native_scores(X_train[in_sample])))
    progress("validate", 1.0)
    if min_auc is not None and (validation["roc_auc"] or 0.0) < min_auc:
        raise TrainingGateError(f"validation ROC-AUC {validation['roc_auc']:.4f} is below --min-auc {min_auc}; "
                                "no bundle written")

    progress("importance", 0.0)
    sample = _stratified_sample(y_valid, 500, IMPORTANCE_ROWS, rng)
    importance = recipe.permutation_importance(fitted, X_valid[sample], y_valid[sample], names, rng)
    native_metrics = recipe.native_metrics(fitted, X_valid, y_valid)
    progress("importance", 1.0)

    progress("export", 0.0)
    staged = staging_dir(out_dir)
    try:
        onnx_bytes = recipe.to_onnx(fitted, len(names))
        if onnx_bytes is not None:
            (staged / ONNX_MODEL).write_bytes(onnx_bytes)
        recipe.save_artifact(fitted, staged)
        (staged / FEATURES).write_text(dumps(features.to_dict()))
        cert_idx = _stratified_sample(y_valid, 100, CERTIFICATION_ROWS, rng)
        # stand-ins for the PII fields (no real person in a bundle), scored by the training library itself
        domains = next((c["levels"] for c in features.categorical if c["name"] == "email_domain"), [])
        cert_rows = stand_in(detector, valid_part.iloc[cert_idx].reset_index(drop=True), domains)
        X_cert = features.transform(columns_from_frame(cert_rows))
        cert_scores = fitted.native_scores(X_cert)
        attribution = recipe.attribution(fitted, X_train)
        graph = attribution.to_onnx() if attribution is not None else None
        if graph is not None:
            (staged / EXPLAIN_MODEL).write_bytes(graph)
        (staged / CERTIFICATION).write_text(dumps({
            "reference": f"{recipe.flavour} {fitted.native_method}",
            "identities": "stand-ins: no PII of a real applicant (models.stand_ins)",
            "rows": [json_record(r) for r in cert_rows[detector.field_names].to_dict(orient="records")],
            "expected_scores": [float(s) for s in cert_scores],
            # the library's own path attributions (or linear terms) of the same rows, the bias last
            **({"expected_contributions": attribution.contributions(X_cert).round(12).tolist()}
               if attribution is not None else {}),
            "labels": [int(v) for v in y_valid[cert_idx]],
        }))
        manifest = {
            "name": name or f"{detector.name}-{recipe.name}",
            "detector": detector.name,
            "recipe": recipe.name,
            "flavour": recipe.flavour,
            "supervised": recipe.supervised,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "hyper_parameters": resolved,
            "seed": seed,
            "library_versions": _library_versions(),
            "input_schema": detector.schema_dict(),
            "schema_fingerprint": detector.fingerprint(),
            "features": {"names": names, "dropped": features.dropped},
            "windows": {"split_at": format_time(cut, detector), "training": _window(train_part, detector),
                        "validation": _window(valid_part, detector)},
            "data_quality": data_quality(frame.drop(columns=[TIME_COLUMN]), detector),
            "metrics": {"validation": validation, "training_roc_auc": train_auc,
                        **({"native_validation": native_metrics} if native_metrics else {})},
            "threshold": {"value": threshold, "chosen_by": "max F1 on the validation window"},
            "feature_importance": {"method": recipe.importance_method, "values": ranked(importance),
                                   "native": ranked(recipe.native_importance(fitted, names))},
            "recipe_details": fitted.details or {},
            "serving": {"runtime": fitted.runtime, "onnx_output": fitted.onnx_output,
                        "score_transform": fitted.score_transform, "artifact": fitted.artifact_name,
                        "native_method": fitted.native_method},
            "certification": {"rows": len(cert_idx), "tolerance": DEFAULT_TOLERANCE},
            # out-of-sample scores: in-sample ones of a forest are far more confident than production's
            "drift_reference": drift_reference(detector, valid_scores, "validation", features.training_stats,
                                               ranked(importance)),
            # the validation scores' distribution, finest in the top tail where decline rates live: what
            # a strategy matching the champion's review and decline rates is derived from at registration
            "score_quantiles": {"window": "validation", "levels": QUANTILE_LEVELS, "scores": [
                float(s) for s in np.quantile(np.asarray(valid_scores, dtype=float), QUANTILE_LEVELS)]},
            # file None: the model computes its own contributions (a neighbour query has no ONNX graph)
            "explanation": {"method": attribution.method, "output": attribution.output,
                            "file": EXPLAIN_MODEL if graph is not None else None, "top": 3,
                            **({"details": attribution.details} if attribution.details else {})}
            if attribution is not None else None,
            # per age band and region: what governance reviews for bias before the model decides anything
            "fairness": _validation_fairness(detector, valid_part, valid_scores, y_valid),
        }
        bundle_dir = write_bundle(out_dir, manifest, staged)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    result = certify(bundle_dir, identity_key=identity_key)
    if not result.passed:
        shutil.rmtree(bundle_dir, ignore_errors=True)
        raise TrainingGateError(f"the exported model does not reproduce {recipe.flavour}'s scores "
                                f"(max difference {result.max_abs_diff:.2e}); no bundle written")
    progress("export", 1.0)
    return TrainingResult(bundle_dir, json.loads((bundle_dir / "manifest.json").read_text()),
                          time.perf_counter() - started)
