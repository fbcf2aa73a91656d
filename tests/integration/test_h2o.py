"""H2O models end to end: trained on a real local H2O (one JVM for the whole test session),
exported as MOJO + ONNX, certified against H2O's own predictions, then served with no JVM:
as champion by the gateway and as challengers by an `arbiter worker` over the real RabbitMQ."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import h2o
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from arbiter.governance.registry import register_bundle
from arbiter.store import tables
from models.bundle import CERTIFICATION
from models.certification import certify
from models.detectors import get_detector
from models.errors import BundleError
from models.explain import EXPLAIN_MODEL
from models.recipes import get_recipe, h2o_engine
from models.runtimes import open_bundle
from models.synth import synthesize
from models.training import TrainingResult, train
from models.validation import validate_record
from tests.helpers import assert_one_line_error, copy_bundle, perturb_contribution_graph, perturb_onnx, run
from tests.integration.shadow_rig import ADMIN, DETECTOR, ShadowRig, application_bundles, rabbit_url, rig

pytestmark = pytest.mark.integration
__all__ = ["application_bundles", "rabbit_url", "rig"]  # fixtures
RECIPES = ("h2o-gbm", "h2o-drf", "h2o-glm")
FAST = {"h2o-gbm": {"ntrees": 40}, "h2o-drf": {"ntrees": 20, "max_depth": 10}, "h2o-glm": {}}
ALGO = {"h2o-gbm": "gbm", "h2o-drf": "drf", "h2o-glm": "glm"}
N = 300


@pytest.fixture(scope="session")
def h2o_cluster() -> Iterator[h2o_engine.Cluster]:
    """One local H2O for the test session, started the way the recipes start one."""
    h2o_engine.use_cluster(None)
    cluster = h2o_engine.cluster()
    assert cluster.owned and cluster.url.startswith("http://127.0.0.1:") and cluster.version == "3.46.0.11"
    yield cluster
    h2o_engine.shutdown()


@pytest.fixture(scope="session")
def h2o_results(h2o_cluster: h2o_engine.Cluster, app_frame: pd.DataFrame,
                tmp_path_factory: pytest.TempPathFactory) -> dict[str, TrainingResult]:
    detector = get_detector(DETECTOR)
    return {recipe: train(detector, get_recipe(recipe), app_frame, tmp_path_factory.mktemp(recipe) / "bundle",
                          params=FAST[recipe], seed=3) for recipe in RECIPES}


def _h2o_predictions(result: TrainingResult, records: list[dict]) -> np.ndarray:
    """H2O's own fraud probabilities, from the cluster, for records as the platform receives them."""
    opened = open_bundle(result.bundle_dir)
    clean = []
    for record in records:
        valid, problems = validate_record(opened.detector, record)
        assert not problems, problems
        clean.append(valid)
    model = h2o.get_model(result.manifest["recipe_details"]["h2o_model_id"])
    return h2o_engine.fraud_probability(model, opened.features.transform_records(clean),
                                        result.manifest["features"]["names"])


@pytest.mark.parametrize("recipe", RECIPES)
def test_each_h2o_recipe_writes_a_certified_bundle_with_h2os_own_governance(
        h2o_results: dict[str, TrainingResult], recipe: str) -> None:
    result = h2o_results[recipe]
    manifest, bundle = result.manifest, result.bundle_dir
    assert (manifest["recipe"], manifest["flavour"], manifest["serving"]["runtime"]) == (recipe, "h2o", "onnx")
    assert {"model.mojo.zip", "model.onnx", CERTIFICATION} <= set(manifest["files"])
    with zipfile.ZipFile(bundle / "model.mojo.zip") as mojo:  # H2O's own MOJO, as H2O wrote it
        ini = mojo.read("model.ini").decode()
    assert f"algo = {ALGO[recipe]}" in ini

    cert = certify(bundle)
    assert cert.passed and cert.runtime == "onnx" and cert.rows == 300, cert
    assert cert.max_abs_diff <= 1e-5 and cert.reference == "h2o predict"
    # explained: path attribution over the MOJO's trees (GLM: its coefficients), adding up to H2O's score
    assert manifest["explanation"]["file"] == EXPLAIN_MODEL
    assert manifest["explanation"]["output"] == ("probability" if recipe == "h2o-drf" else "log-odds")
    assert cert.explanation_max_abs_diff <= 1e-5 and cert.explanation_sum_diff <= 1e-5, cert

    # the recorded expected scores are H2O's own predictions, as the cluster gives them now
    examples = json.loads((bundle / CERTIFICATION).read_text())
    np.testing.assert_allclose(_h2o_predictions(result, examples["rows"]), examples["expected_scores"],
                               rtol=0, atol=1e-9)

    # H2O's own metrics and importance next to the platform's
    native = manifest["metrics"]["native_validation"]
    assert native["source"] == "h2o model_performance"
    assert abs(native["roc_auc"] - manifest["metrics"]["validation"]["roc_auc"]) < 5e-3  # H2O bins its AUC
    names = manifest["features"]["names"]
    shares = {row["feature"]: row["importance"] for row in manifest["feature_importance"]["native"]}
    assert set(shares) == set(names) and sum(shares.values()) == pytest.approx(1.0, abs=1e-4)
    assert "computed by H2O" in manifest["feature_importance"]["method"]
    assert len(manifest["feature_importance"]["values"]) == len(names)
    assert manifest["library_versions"]["h2o"] == "3.46.0.11"
    assert manifest["windows"]["training"]["to"] < manifest["windows"]["validation"]["from"]


@pytest.mark.parametrize("recipe", RECIPES)
def test_a_changed_h2o_contribution_graph_is_refused(h2o_results: dict[str, TrainingResult], recipe: str,
                                                     tmp_path: Path) -> None:
    changed = copy_bundle(h2o_results[recipe].bundle_dir, tmp_path / recipe)
    perturb_contribution_graph(changed)  # resealed: only certification can tell
    result = certify(changed)
    assert not result.passed and result.max_abs_diff <= 1e-5 and result.explanation_max_abs_diff > 1e-5


def test_a_changed_h2o_model_is_refused(h2o_results: dict[str, TrainingResult], tmp_path: Path) -> None:
    drifted = copy_bundle(h2o_results["h2o-drf"].bundle_dir, tmp_path / "drifted")
    perturb_onnx(drifted)  # resealed: only certification can tell
    result = certify(drifted)
    assert not result.passed and result.max_abs_diff > 1e-3

    swapped = copy_bundle(h2o_results["h2o-gbm"].bundle_dir, tmp_path / "swapped")
    shutil.copyfile(h2o_results["h2o-drf"].bundle_dir / "model.mojo.zip", swapped / "model.mojo.zip")
    with pytest.raises(BundleError, match=r"model\.mojo\.zip does not match"):
        open_bundle(swapped)


def test_the_cli_trains_on_an_attached_cluster_and_refuses_an_unreachable_one(
        h2o_cluster: h2o_engine.Cluster, tmp_path: Path) -> None:
    data = tmp_path / "applications.csv"
    synthesize(DETECTOR, 4_000, seed=8, fraud_rate=0.05).to_csv(data, index=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBITER_")}
    env["ARBITER_PII_KEY"] = os.environ["ARBITER_PII_KEY"]  # the deployment's key, as certify below uses
    proc = run(env, "train", "--detector", DETECTOR, "--recipe", "h2o-glm", "--data", str(data),
               "--out", str(tmp_path / "glm"), "--h2o-url", h2o_cluster.url)
    assert proc.returncode == 0, proc.stderr
    assert f"at {h2o_cluster.url} (attached)" in proc.stderr
    manifest = json.loads((tmp_path / "glm" / "manifest.json").read_text())
    assert h2o.get_model(manifest["recipe_details"]["h2o_model_id"]).algo == "glm"  # it trained on our cluster
    assert certify(tmp_path / "glm").passed

    proc = run(env | {"ARBITER_H2O_URL": "http://127.0.0.1:9"}, "train", "--detector", DETECTOR,
               "--recipe", "h2o-gbm", "--data", str(data), "--out", str(tmp_path / "nowhere"))
    assert_one_line_error(proc, "cannot reach the H2O cluster at http://127.0.0.1:9")
    assert not (tmp_path / "nowhere").exists()


def test_h2o_models_are_challengers_through_a_worker_and_champions_through_the_gateway(
        rig: ShadowRig, h2o_results: dict[str, TrainingResult]) -> None:
    ids = {recipe: register_bundle(rig.platform, h2o_results[recipe].bundle_dir).model.id for recipe in RECIPES}
    for model_id in ids.values():
        r = rig.client.post(f"/admin/v1/models/{model_id}/shadow", headers=ADMIN)
        assert r.status_code == 200, r.text
    rig.client.app.state.serving.refresh()

    # challengers: every application scored by each H2O model in an `arbiter worker` process
    rig.start_worker()
    applications = rig.applications(N, "h2o-shadow", seed=21)
    assert [rig.score(a) for a in applications].count(200) == N
    counts = rig.wait_for({"decisions": N, **{model_id: N for model_id in ids.values()}})
    assert all(counts.get(model_id) == N for model_id in ids.values()), (counts, rig.worker_logs())
    with rig.platform.sessions() as session:
        shadow = {(row.model_id, row.application_id): row.score
                  for row in session.execute(select(tables.ShadowScore)).scalars()}

    # champions: the same applications under new ids, scored by the gateway, one H2O model after another
    probe = applications[:25]
    for recipe, model_id in ids.items():
        r = rig.client.post("/admin/v1/champion", headers=ADMIN, json={
            "detector": DETECTOR, "model_id": model_id, "reason": f"{recipe} as champion", "force": True})
        assert r.status_code == 200, r.text
        rig.client.app.state.serving.refresh()
        answers = []
        for application in probe:
            r = rig.client.post(f"/v1/detectors/{DETECTOR}/score",
                                json={**application, "application_id": f"{recipe}-{application['application_id']}"})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["model"] is None or body["model"]["id"] == model_id  # None: a rule decided
            answers.append(body)
        scored = [(a, body) for a, body in zip(probe, answers, strict=True) if body["model"]]
        assert len(scored) >= 20, answers
        gateway = np.array([body["score"] for _, body in scored])
        worker = np.array([shadow[(model_id, a["application_id"])] for a, _ in scored])
        h2o_own = _h2o_predictions(h2o_results[recipe], [a["data"] for a, _ in scored])
        np.testing.assert_allclose(gateway, worker, rtol=0, atol=1e-9)  # one model, one answer, either path
        np.testing.assert_allclose(gateway, h2o_own, rtol=0, atol=1e-5)  # and it is H2O's
