"""The binary repository: verify, certify and store model bundles, content-addressed.

`register_bundle` either stores the bundle under `<registry>/bundles/<sha256>/` and writes
its `models` row, or refuses with one clear message and leaves nothing behind.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from arbiter.bootstrap import Platform
from arbiter.domain.errors import RegistrationError
from arbiter.governance.model_strategies import initial_strategy
from arbiter.store import audit_repo, models_repo, tables
from models.bundle import FEATURES, bundle_digest, verify_bundle
from models.certification import certify
from models.detectors import UnknownDetectorError, get_detector
from models.drift import reference_rows
from models.errors import BundleError


@dataclass(frozen=True)
class Registration:
    model: tables.Model
    created: bool


def _copy_in(source: Path, registry_dir: Path, digest: str) -> tuple[Path, bool]:
    """Copy the bundle to its content address atomically; (path, whether this call made it)."""
    target = registry_dir / "bundles" / digest
    if target.is_dir():
        verify_bundle(target)
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".incoming-", dir=target.parent))
    try:
        for path in source.iterdir():
            if path.is_file():
                shutil.copy2(path, staged / path.name)
        verify_bundle(staged)  # the copy itself is checked, not only the source
        staged.rename(target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return target, True


def register_bundle(platform: Platform, source: str | Path, *, actor: str = "cli", trusted: bool = True
                    ) -> Registration:
    """Verify, certify (within ARBITER_CERTIFICATION_TOLERANCE) and store the bundle at `source`;
    the `models` row it now has. Registering the same bytes again changes nothing.

    Untrusted (received over the network): a bundle served by unpickling its artifact (runtime
    `sklearn`) is refused before anything of it is loaded, since a pickle runs code when loaded;
    such bundles come in from a trusted host, with `arbiter register` (docs/security.md)."""
    source, registry_dir = Path(source), Path(platform.settings.registry_dir)
    factory, tolerance = platform.sessions, platform.settings.certification_tolerance
    if not source.is_dir():
        raise RegistrationError(f"not a bundle directory: {source}")
    try:
        manifest = verify_bundle(source)
        detector = get_detector(manifest["detector"])
    except (BundleError, UnknownDetectorError) as exc:
        raise RegistrationError(f"refused: {exc}") from None
    runtime = (manifest.get("serving") or {}).get("runtime", "onnx")
    if not trusted and runtime != "onnx":
        raise RegistrationError(f"refused: this bundle is served by unpickling its artifact (runtime {runtime}); "
                                "nothing received over the network is unpickled: register it from a trusted host "
                                "with `arbiter register`")
    if _carries_a_key(source):
        raise RegistrationError("refused: the bundle carries the key of its identity digests (trained before keys "
                                "left bundles): retrain it with this deployment's ARBITER_PII_KEY")
    if manifest.get("schema_fingerprint") != detector.fingerprint():
        raise RegistrationError(f"refused: the bundle's input schema does not match detector {detector.name!r} "
                                "(trained on another version of its fields)")
    digest = bundle_digest(source)
    with factory() as session:
        existing = models_repo.by_sha256(session, digest)
        if existing is not None:
            return Registration(existing, created=False)

    try:
        result = certify(source, tolerance=tolerance, identity_key=platform.identity_key)
    except BundleError as exc:
        raise RegistrationError(f"refused: {exc}") from None
    if not result.passed and result.max_abs_diff <= tolerance:  # the scores agree, the explanations do not
        raise RegistrationError(
            f"refused: certification failed: the served explanations differ from {result.reference}'s own path "
            f"attributions by up to {result.explanation_max_abs_diff:.3g}, and contributions plus bias from the "
            f"score by up to {result.explanation_sum_diff:.3g}, on {result.rows} rows (tolerance {tolerance:g})")
    if not result.passed:
        raise RegistrationError(
            f"refused: certification failed: {result.runtime} scores differ from {result.reference} by up to "
            f"{result.max_abs_diff:.3g} on {result.rows} rows (tolerance {tolerance:g})")

    target, made = _copy_in(source, registry_dir, digest)
    try:
        return Registration(_insert_row(factory, manifest, digest, target, registry_dir, result.as_dict(), actor),
                            created=True)
    except BaseException:
        if made:
            shutil.rmtree(target, ignore_errors=True)
        raise


def _carries_a_key(bundle: Path) -> bool:
    try:
        reuse = json.loads((bundle / FEATURES).read_text()).get("reuse") or {}
    except (OSError, ValueError, AttributeError):
        return False  # unreadable: certification says so
    return any(isinstance(table, dict) and "key" in table for table in reuse.values())


def _insert_row(factory: sessionmaker[Session], manifest: dict, digest: str, target: Path, registry_dir: Path,
                certification: dict, actor: str) -> tables.Model:
    detector = get_detector(manifest["detector"])
    validation = manifest["metrics"]["validation"]
    for attempt in range(3):  # a concurrent registration of the same name may take our version
        try:
            with factory() as session, session.begin():
                models_repo.ensure_detector(session, detector)
                existing = models_repo.by_sha256(session, digest)
                if existing is not None:
                    return existing
                version = models_repo.next_version(session, manifest["name"])
                row = tables.Model(
                    id=f"{manifest['name']}.v{version}", detector=detector.name, name=manifest["name"],
                    version=version, flavour=manifest["flavour"], recipe=manifest["recipe"],
                    runtime=manifest["serving"]["runtime"], sha256=digest, status="registered",
                    location=str(target.relative_to(registry_dir)),
                    metrics={k: validation.get(k) for k in ("roc_auc", "pr_auc", "precision", "recall", "f1",
                                                            "threshold")},
                    certification=certification, manifest=manifest, registered_by=actor,
                )
                session.add(row)
                session.flush()
                session.add_all(tables.ModelReferenceBin(model_id=row.id, **bin_row)
                                for bin_row in reference_rows(manifest.get("drift_reference")))
                strategy = initial_strategy(session, row, actor=actor)
                audit_repo.append(session, actor, "model.registered", row.id, {
                    "detector": row.detector, "sha256": digest, "recipe": row.recipe,
                    "certification": certification, "strategy": {
                        "review_threshold": strategy.review_threshold,
                        "decline_threshold": strategy.decline_threshold, "basis": strategy.basis}})
            return row
        except IntegrityError:
            if attempt == 2:
                raise
    raise RegistrationError("could not allocate a model version")  # pragma: no cover


def register_archive(platform: Platform, archive: Path, *, actor: str) -> Registration:
    """Register the bundle inside a tar or tar.gz `archive` (its files, or one folder of them), as
    received over the network (untrusted: no pickle). Extraction refuses absolute paths, links out
    of the folder and devices."""
    target = archive.parent / "bundle"
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise RegistrationError(f"the body is not a usable tar archive: {exc}") from None
    try:
        manifests = list(target.rglob("manifest.json"))
        if len(manifests) != 1:
            raise RegistrationError("the archive must hold exactly one bundle (one manifest.json)")
        return register_bundle(platform, manifests[0].parent, actor=actor, trusted=False)
    finally:
        shutil.rmtree(target, ignore_errors=True)


def list_models(platform: Platform, detector: str | None = None) -> list[tables.Model]:
    with platform.sessions() as session:
        return models_repo.list_models(session, detector)


def model_dict(m: tables.Model) -> dict[str, Any]:
    """A registered model as the admin API shows it (never its bytes)."""
    return {"id": m.id, "detector": m.detector, "name": m.name, "version": m.version, "recipe": m.recipe,
            "flavour": m.flavour, "runtime": m.runtime, "status": m.status, "sha256": m.sha256,
            "metrics": m.metrics, "certification": m.certification, "registered_at": m.registered_at.isoformat(),
            "registered_by": m.registered_by, "windows": m.manifest.get("windows"),
            "shadow": {"started_at": _iso(m.shadow_started_at), "stopped_at": _iso(m.shadow_stopped_at)},
            "review": {"decision": m.review or "pending", "by": m.reviewed_by, "at": _iso(m.reviewed_at),
                       "comment": m.review_comment}}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
