"""Registering bundles into the real Postgres: stored, certified, or refused with nothing written."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from arbiter.bootstrap import Platform
from arbiter.domain.errors import RegistrationError
from arbiter.governance.registry import register_bundle
from arbiter.store import models_repo, tables
from arbiter.store.models_repo import bundle_path
from models.bundle import bundle_digest, verify_bundle
from models.detectors import get_detector
from tests.helpers import copy_bundle, edit_manifest, perturb_onnx, reseal

pytestmark = pytest.mark.integration


def _register(platform: Platform, bundle: Path):
    return register_bundle(platform, bundle)


def _model_count(platform: Platform) -> int:
    with platform.sessions() as session:
        return session.scalar(select(func.count()).select_from(tables.Model))


def _registry_entries(platform: Platform) -> list[Path]:
    root = platform.settings.registry_dir / "bundles"
    return sorted(root.iterdir()) if root.exists() else []


def test_register_stores_content_addressed_and_lists(platform: Platform, rf_bundle: Path,
                                                     app_logreg_bundle: Path) -> None:
    first = _register(platform, rf_bundle)
    assert first.created
    model = first.model
    assert model.id == "card-transactions-rf.v1" and model.status == "registered"
    assert model.sha256 == bundle_digest(rf_bundle)
    stored = bundle_path(platform.settings.registry_dir, model)
    assert stored.name == model.sha256 and verify_bundle(stored)
    assert model.certification["passed"] and model.certification["max_abs_diff"] <= 1e-5
    assert model.certification["rows"] >= 200
    assert model.metrics["roc_auc"] > 0.7

    _register(platform, app_logreg_bundle)
    with platform.sessions() as session:
        assert [m.id for m in models_repo.list_models(session)] == [
            "card-applications-logreg.v1",
            "card-transactions-rf.v1",
        ]
        assert [m.id for m in models_repo.list_models(session, "card-transactions")] == ["card-transactions-rf.v1"]


def test_registering_the_same_bundle_twice_makes_one_row(platform: Platform, rf_bundle: Path) -> None:
    assert _register(platform, rf_bundle).created
    again = _register(platform, rf_bundle)
    assert not again.created and again.model.id == "card-transactions-rf.v1"
    assert _model_count(platform) == 1 and len(_registry_entries(platform)) == 1


def test_a_new_bundle_of_the_same_name_gets_the_next_version(platform: Platform, rf_bundle: Path,
                                                             tmp_path: Path) -> None:
    _register(platform, rf_bundle)
    retrained = copy_bundle(rf_bundle, tmp_path / "v2")
    edit_manifest(retrained, created_at="2030-01-01T00:00:00Z")
    assert _register(platform, retrained).model.id == "card-transactions-rf.v2"


def test_tampered_bundle_is_refused_and_nothing_written(platform: Platform, rf_bundle: Path, tmp_path: Path) -> None:
    bundle = copy_bundle(rf_bundle, tmp_path / "t")
    with (bundle / "features.json").open("a") as fh:
        fh.write(" ")
    with pytest.raises(RegistrationError, match="does not match its sha256"):
        _register(platform, bundle)
    assert _model_count(platform) == 0 and _registry_entries(platform) == []


def test_perturbed_model_fails_certification_and_nothing_written(platform: Platform, rf_bundle: Path,
                                                                 tmp_path: Path) -> None:
    bundle = copy_bundle(rf_bundle, tmp_path / "p")
    perturb_onnx(bundle)
    verify_bundle(bundle)  # the hashes are consistent: only certification can catch it
    with pytest.raises(RegistrationError, match="certification failed") as caught:
        _register(platform, bundle)
    assert "differ from sklearn predict_proba by up to" in str(caught.value)
    assert _model_count(platform) == 0 and _registry_entries(platform) == []


def test_schema_mismatch_is_refused(platform: Platform, rf_bundle: Path, tmp_path: Path) -> None:
    bundle = copy_bundle(rf_bundle, tmp_path / "s")
    edit_manifest(bundle, schema_fingerprint="0" * 64)
    reseal(bundle)
    with pytest.raises(RegistrationError, match="input schema does not match"):
        _register(platform, bundle)
    assert _model_count(platform) == 0


def test_unknown_detector_is_refused(platform: Platform, rf_bundle: Path, tmp_path: Path) -> None:
    bundle = copy_bundle(rf_bundle, tmp_path / "u")
    edit_manifest(bundle, detector="card-loans")
    reseal(bundle)
    with pytest.raises(RegistrationError, match="unknown detector 'card-loans'"):
        _register(platform, bundle)
    assert _model_count(platform) == 0


def test_register_writes_the_drift_reference_bins(platform: Platform, rf_bundle: Path,
                                                  app_logreg_bundle: Path) -> None:
    manifest = verify_bundle(rf_bundle)
    drift = manifest["drift_reference"]
    assert drift["score"]["window"] == "validation" and len(drift["features"]) == 5
    fields = [f["name"] for f in drift["features"]]
    importance = [i["feature"] for i in manifest["feature_importance"]["values"]]
    assert fields == [f for f in importance if f in fields]  # most important first
    for bundle in (rf_bundle, app_logreg_bundle):
        model = _register(platform, bundle).model
        with platform.sessions() as session:
            rows = session.scalars(select(tables.ModelReferenceBin)
                                   .where(tables.ModelReferenceBin.model_id == model.id)).all()
        variables = {(r.kind, r.variable) for r in rows}
        assert ("score", "score") in variables and len(variables) > 1
        pii = set(get_detector(model.detector).pii_fields)
        assert not pii & {v for _, v in variables}
        for kind, name in variables:
            shares = [r.expected_share for r in rows if (r.kind, r.variable) == (kind, name)]
            assert sum(shares) == pytest.approx(1.0)


def test_a_bundle_holds_neither_a_key_nor_anyone_s_pii(app_logreg_bundle: Path, app_frame) -> None:
    import json

    from models.identity import deployment_key, key_fingerprint, reuse_key
    from tests.conftest import PII_KEY

    blob = b"".join(p.read_bytes() for p in sorted(app_logreg_bundle.iterdir()))
    key = deployment_key(PII_KEY)
    for secret in (key, key.hex().encode(), reuse_key(key).hex().encode()):
        assert secret not in blob
    features = json.loads((app_logreg_bundle / "features.json").read_text())
    assert features["identity_key_fingerprint"] == key_fingerprint(key)
    assert all(set(table) == {"counts"} for table in features["reuse"].values())
    for field in ("email", "ssn", "full_name", "phone", "device_id"):
        found = [v for v in app_frame[field].dropna().astype(str) if v.encode() in blob]
        assert not found, (field, found[:3])  # no applicant of the training data, anywhere in the bundle
    manifest = json.loads((app_logreg_bundle / "manifest.json").read_text())
    pii = set(get_detector("card-applications").pii_fields)
    assert not {f["name"] for f in manifest["drift_reference"]["features"]} & pii
    assert set(features["dropped"]) >= pii  # never a feature: no level or bin of a PII field in the bundle
    certification = json.loads((app_logreg_bundle / "certification.json").read_text())
    assert all(r["email"].startswith("cert-") and r["ssn"].startswith("9") for r in certification["rows"])
    assert len(certification["rows"]) == len(certification["expected_scores"]) >= 100


def test_a_bundle_trained_under_another_key_is_refused(platform: Platform, app_frame, tmp_path: Path) -> None:
    from tests.conftest import train_small

    other = train_small(app_frame, "card-applications", "logreg", tmp_path / "other",
                        identity_key=b"another bank's ARBITER_PII_KEY").bundle_dir
    with pytest.raises(RegistrationError, match="another ARBITER_PII_KEY") as refused:
        _register(platform, other)
    assert "\n" not in str(refused.value) and _model_count(platform) == 0 and not _registry_entries(platform)
