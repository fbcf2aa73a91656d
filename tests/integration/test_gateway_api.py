"""The gateway's HTTP API against the real Postgres, with real models (FastAPI TestClient)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select, text, update

from arbiter.bootstrap import Platform
from arbiter.gateway.app import create_app
from arbiter.governance.registry import register_bundle
from arbiter.store import tables
from models.detectors import DETECTORS
from models.synth.applications import KNOWN_FRAUD_EMAILS
from tests.helpers import load_synthetic_rules
from tests.integration.promotion_evidence import (
    add_champion_decisions_and_labels,
    add_shadow_scores,
    second_model,
    small_bank,
)

pytestmark = pytest.mark.integration
TOKEN = "test-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def cert_rows(bundle: Path) -> list[dict]:
    return json.loads((bundle / "certification.json").read_text())["rows"]


@pytest.fixture
def client(platform: Platform, rf_bundle: Path, app_logreg_bundle: Path) -> Iterator[TestClient]:
    platform.settings.admin_token = SecretStr(TOKEN)
    platform.settings.promotion_min_shadow = 1000
    platform.settings.api_keys = None
    for bundle in (rf_bundle, app_logreg_bundle):
        register_bundle(platform, bundle)
    load_synthetic_rules(platform)  # rules v2 of card-applications (v1, as seeded, is empty)
    app = create_app(platform, refresh_interval=60)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def promote(client: TestClient, detector: str, model_id: str, force: bool = True, reason: str = "test") -> dict:
    r = client.post("/admin/v1/champion", headers=ADMIN,
                    json={"detector": detector, "model_id": model_id, "reason": reason, "force": force})
    client.app.state.serving.refresh()
    return r


def test_score_returns_the_contract_shape(client: TestClient, rf_bundle: Path) -> None:
    assert promote(client, "card-transactions", "card-transactions-rf.v1").status_code == 200
    row = cert_rows(rf_bundle)[0]
    r = client.post("/v1/detectors/card-transactions/score", json={"application_id": "a-1", "data": row})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"application_id", "detector", "score", "decision", "reasons", "explanation", "model",
                         "strategy_version", "rules_version", "elapsed_ms"}
    assert body["application_id"] == "a-1" and body["detector"] == "card-transactions"
    assert 0.0 <= body["score"] <= 1.0 and body["decision"] in ("approve", "review", "decline")
    assert body["explanation"] and len(body["explanation"]) <= 3  # the inputs that pushed the score up most
    assert all(set(e) == {"feature", "contribution", "text"} and e["contribution"] > 0 for e in body["explanation"])
    assert body["explanation"][0]["text"].endswith("raised the fraud score")
    assert body["model"] == {"id": "card-transactions-rf.v1", "name": "card-transactions-rf", "version": 1}
    assert body["strategy_version"] == 1 and body["elapsed_ms"] > 0
    # the served score is the certified one
    expected = json.loads((rf_bundle / "certification.json").read_text())["expected_scores"][0]
    assert body["score"] == pytest.approx(expected, abs=1e-5)
    generated = client.post("/v1/detectors/card-transactions/score", json={"data": row}).json()
    assert generated["application_id"].startswith("app-")


def test_rule_hit_decides_without_the_model(client: TestClient, app_logreg_bundle: Path) -> None:
    row = cert_rows(app_logreg_bundle)[0] | {"email": KNOWN_FRAUD_EMAILS[0]}
    r = client.post("/v1/detectors/card-applications/score", json={"data": row})
    assert r.status_code == 200, r.text  # no champion needed for a rule decision
    body = r.json()
    assert body["decision"] == "decline" and body["reasons"] == ["rule:known-fraud-email"]
    assert body["score"] is None and body["model"] is None and body["rules_version"] == 2
    assert body["explanation"] == [{"feature": "rule:known-fraud-email", "contribution": None,
                                    "text": "emails confirmed fraudulent in the past"}]  # a rule's description


def test_no_champion_is_503_and_readyz_says_why(client: TestClient, rf_bundle: Path) -> None:
    r = client.post("/v1/detectors/card-transactions/score", json={"data": cert_rows(rf_bundle)[0]})
    assert r.status_code == 503 and "no champion" in r.json()["detail"]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "no champion for card-transactions" in ready.json()["problems"]
    assert client.get("/healthz").json() == {"status": "ok"}
    promote(client, "card-transactions", "card-transactions-rf.v1")
    assert client.get("/readyz").json()["problems"] == ["no champion for card-applications"]
    client.app.state.platform.settings.served_detectors = "card-transactions"  # a deployment serving one detector
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["champions"]["card-applications"] is None
        client.app.state.platform.settings.served_detectors = "card-transactions, card-loans"
        assert client.get("/readyz").json()["problems"] == [
            "ARBITER_SERVED_DETECTORS names an unknown detector 'card-loans'"]
    finally:
        client.app.state.platform.settings.served_detectors = None


HOSTILE = [
    ("wrong type", lambda row: {"data": row | {"V1": "abc"}}, 422, "data.V1"),
    ("bool as number", lambda row: {"data": row | {"Amount": True}}, 422, "data.Amount"),
    ("missing field", lambda row: {"data": {k: v for k, v in row.items() if k != "V3"}}, 422, "data.V3"),
    ("extra field", lambda row: {"data": row | {"evil": 1}}, 422, "data.evil"),
    ("extra envelope key", lambda row: {"data": row, "admin": True}, 422, "admin"),
    ("null data", lambda row: {"data": None}, 422, "data"),
    ("list body", lambda row: [row], 422, "body"),
    ("huge number", lambda row: {"data": row | {"Amount": 10**30}}, 422, "data.Amount"),
    ("long application id", lambda row: {"application_id": "x" * 129, "data": row}, 422, "application_id"),
    ("control chars in id", lambda row: {"application_id": "a\x00b", "data": row}, 422, "application_id"),
    ("odd unicode keys", lambda row: {"data": row | {"\u202e\U0001f600": 1}}, 422, "data."),
]


@pytest.mark.parametrize("name,make,status,field", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_json_gets_a_named_4xx(client: TestClient, rf_bundle: Path, name: str, make, status: int,
                                       field: str) -> None:
    promote(client, "card-transactions", "card-transactions-rf.v1")
    r = client.post("/v1/detectors/card-transactions/score", json=make(cert_rows(rf_bundle)[0]))
    assert r.status_code == status, r.text
    assert any(field in e["field"] for e in r.json()["errors"]), r.json()
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("raw,status,needle", [
    (b'{"data": {"V1": NaN}}', 422, "not valid JSON"),
    (b'{"data": {"V1": Infinity}}', 422, "not valid JSON"),
    (b'{"data": {"V1": 1e400}}', 422, "invalid"),
    (b'{"data": ', 422, "not valid JSON"),
    (b"", 422, "empty"),
    (b"\xff\xfe\x00", 422, "not valid JSON"),
    (b'{"data": {"V1": ' + b"9" * 5000 + b"}}", 422, "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, 413, "larger than"),
    (b"[" * 30_000 + b"]" * 30_000, 422, "not valid JSON"),
    (b'{"data": {}, "pad": "' + b"x" * (1024 * 1024) + b'"}', 413, "larger than 64 KiB"),
])
def test_hostile_bodies(client: TestClient, raw: bytes, status: int, needle: str) -> None:
    promote(client, "card-transactions", "card-transactions-rf.v1")
    r = client.post("/v1/detectors/card-transactions/score", content=raw,
                    headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert needle in r.text
    assert client.get("/healthz").status_code == 200


def test_unknown_detector_is_404(client: TestClient) -> None:
    r = client.post("/v1/detectors/card-loans/score", json={"data": {}})
    assert r.status_code == 404 and "unknown detector" in r.json()["detail"]


def test_batch(client: TestClient, rf_bundle: Path) -> None:
    promote(client, "card-transactions", "card-transactions-rf.v1")
    rows = cert_rows(rf_bundle)[:25]
    r = client.post("/v1/detectors/card-transactions/score:batch",
                    json={"applications": [{"application_id": f"b-{i}", "data": row} for i, row in enumerate(rows)]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["application_id"] for x in results] == [f"b-{i}" for i in range(25)]
    single = client.post("/v1/detectors/card-transactions/score", json={"data": rows[3]}).json()
    assert results[3]["score"] == pytest.approx(single["score"], abs=1e-6)
    bad = [{"data": rows[0]}, {"data": rows[1] | {"V1": "x"}}]
    r = client.post("/v1/detectors/card-transactions/score:batch", json={"applications": bad})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "applications.1.data.V1"
    r = client.post("/v1/detectors/card-transactions/score:batch", json={"applications": [{"data": rows[0]}] * 1001})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "applications"


def test_api_keys(platform: Platform, client: TestClient, rf_bundle: Path) -> None:
    promote(client, "card-transactions", "card-transactions-rf.v1")
    client.app.state.api_keys = frozenset({"key-one", "key-two"})
    body = {"data": cert_rows(rf_bundle)[0]}
    assert client.post("/v1/detectors/card-transactions/score", json=body).status_code == 401
    assert client.post("/v1/detectors/card-transactions/score", json=body,
                       headers={"X-API-Key": "key-three"}).status_code == 401
    assert client.post("/v1/detectors/card-transactions/score", json=body,
                       headers={"X-API-Key": "key-two"}).status_code == 200


def test_admin_auth(client: TestClient) -> None:
    assert client.get("/admin/v1/models").status_code == 401
    assert client.get("/admin/v1/models", headers={"Authorization": "Bearer nope"}).status_code == 403
    assert client.get("/admin/v1/models", headers={"Authorization": TOKEN}).status_code == 401
    assert client.get("/admin/v1/models", headers=ADMIN).status_code == 200
    client.app.state.admin_token = None
    assert client.get("/admin/v1/models", headers=ADMIN).status_code == 503


def test_models_list_never_carries_bytes(client: TestClient) -> None:
    models = client.get("/admin/v1/models", headers=ADMIN).json()["models"]
    assert {m["id"] for m in models} == {"card-transactions-rf.v1", "card-applications-logreg.v1"}
    expected = {"id", "detector", "name", "version", "recipe", "flavour", "runtime", "status", "sha256", "metrics",
                "certification", "registered_at", "registered_by", "windows", "shadow", "review"}
    assert all(set(m) == expected for m in models)  # metadata only: no location, no file content
    assert len(json.dumps(models)) < 20_000


def test_gates_refuse_then_force_overrides_and_everything_is_on_record(client: TestClient) -> None:
    r = promote(client, "card-transactions", "card-transactions-rf.v1", force=False)
    assert r.status_code == 409
    assert {"field": "shadow_volume", "message": "gate failed: 0 shadow scores paired with the champion's "
                                                 "(at least 1,000)"} in r.json()["errors"]
    r = promote(client, "card-transactions", "card-transactions-rf.v1", force=True, reason="bootstrap champion")
    assert r.status_code == 200 and r.json()["forced"] is True and r.json()["accepted"] is True
    trail = client.get("/admin/v1/promotions?detector=card-transactions", headers=ADMIN).json()["promotions"]
    assert [(p["accepted"], p["forced"]) for p in trail] == [(True, True), (False, False)]
    assert {k: v for k, v in trail[1]["gates"]["shadow_volume"].items() if k != "detail"} == {
        "passed": False, "shadow_scores": 0, "required": 1000}
    assert trail[1]["gates"]["shadow_coverage"] == {"passed": False, "detail": "never in shadow mode"}
    assert trail[1]["gates"]["evidence"]["detail"] == "no current champion"
    assert trail[0]["reason"] == "bootstrap champion" and trail[0]["actor"] == "admin"


def test_shadow_volume_and_auc_gates(platform: Platform, client: TestClient, rf_bundle: Path,
                                     tmp_path: Path) -> None:
    promote(client, "card-transactions", "card-transactions-rf.v1")
    challenger = second_model(platform, rf_bundle, tmp_path)
    small_bank(platform)
    add_shadow_scores(platform, challenger, 39, good=True)
    add_champion_decisions_and_labels(platform, "card-transactions-rf.v1", 40)
    r = promote(client, "card-transactions", challenger, force=False)
    assert r.status_code == 409
    assert [e["field"] for e in r.json()["errors"]] == ["shadow_volume", "shadow_coverage", "evidence",
                                                        "auc_vs_champion"]  # 39 of 40 scored, labelled
    add_shadow_scores(platform, challenger, 40, good=False)
    r = promote(client, "card-transactions", challenger, force=False)
    assert r.status_code == 409 and [e["field"] for e in r.json()["errors"]] == ["auc_vs_champion"]
    gate = r.json()["errors"][0]["message"]
    assert gate.startswith("gate failed: AUC 0.0000 vs 1.0000: difference -1.0000, 95% interval")
    add_shadow_scores(platform, challenger, 40, good=True)
    r = promote(client, "card-transactions", challenger, force=False)
    assert r.status_code == 200, r.text
    gates = r.json()["gates"]
    auc = gates["auc_vs_champion"]
    assert auc["passed"] and auc["challenger_auc"] == 1.0 and (auc["ci_low"], auc["ci_high"]) == (0.0, 0.0)
    assert (auc["frauds"], auc["legitimate"]) == (10, 30)
    assert gates["shadow_volume"]["shadow_scores"] == 40
    assert gates["shadow_coverage"]["coverage"] == 1.0 and gates["evidence"]["labelled"] == 40
    assert gates["decision_rates"]["passed"] and gates["decision_rates"]["paired"] == 40


def test_too_little_evidence_refuses_with_the_counts(platform: Platform, client: TestClient, rf_bundle: Path,
                                                     tmp_path: Path) -> None:
    """Shadow scores without a single mature label never promote (they used to pass)."""
    promote(client, "card-transactions", "card-transactions-rf.v1")
    challenger = second_model(platform, rf_bundle, tmp_path, shadow_days=2)
    small_bank(platform)
    add_champion_decisions_and_labels(platform, "card-transactions-rf.v1", 40, age_days=1)  # labels not mature
    add_shadow_scores(platform, challenger, 40, good=True, age_days=1)
    r = promote(client, "card-transactions", challenger, force=False)
    assert r.status_code == 409, r.text
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert list(errors) == ["evidence", "auc_vs_champion"]
    assert errors["evidence"] == ("gate failed: insufficient evidence: 0 mature labelled applications scored by "
                                  "both (at least 40), 0 of them frauds (at least 10)")
    trail = client.get("/admin/v1/promotions?detector=card-transactions", headers=ADMIN).json()["promotions"]
    gate = trail[0]["gates"]["auc_vs_champion"]
    assert gate["labelled"] == 0 and gate["challenger_auc"] is None and gate["paired"] == 40
    with platform.engine.connect() as conn:
        view = conn.execute(text("SELECT paired, agreement_rate, labelled, immature FROM "
                                 "champion_challenger_comparison WHERE challenger_id = :c"), {"c": challenger}).one()
    assert (view.paired, view.agreement_rate, view.labelled, view.immature) == (
        gate["paired"], gate["agreement_rate"], gate["labelled"], 40)
    platform.settings.promotion_min_frauds = 11  # 40 mature labels (before the window: never mind), one fraud short
    add_champion_decisions_and_labels(platform, "card-transactions-rf.v1", 40, age_days=60, prefix="old")
    add_shadow_scores(platform, challenger, 40, good=True, age_days=60, prefix="old")
    r = promote(client, "card-transactions", challenger, force=False)
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert list(errors) == ["evidence", "auc_vs_champion"]
    assert "40 mature labelled applications scored by both (at least 40), 10 of them frauds (at least 11)" \
        in errors["evidence"]


def test_certification_gate(platform: Platform, client: TestClient) -> None:
    with platform.sessions() as session, session.begin():
        session.execute(update(tables.Model).where(tables.Model.id == "card-transactions-rf.v1")
                        .values(certification={"passed": False, "max_abs_diff": 0.2}))
    r = promote(client, "card-transactions", "card-transactions-rf.v1", force=False)
    assert r.status_code == 409 and "certified" in [e["field"] for e in r.json()["errors"]]


def test_wrong_detector_or_unknown_model_never_promotes(client: TestClient) -> None:
    r = promote(client, "card-transactions", "card-applications-logreg.v1", force=True)
    assert r.status_code == 409
    assert promote(client, "card-transactions", "nope.v9", force=True).status_code == 409
    assert promote(client, "card-loans", "nope.v9").status_code == 404


def test_rollback_returns_to_the_previous_champion(platform: Platform, client: TestClient, rf_bundle: Path,
                                                   tmp_path: Path) -> None:
    second = second_model(platform, rf_bundle, tmp_path)
    promote(client, "card-transactions", "card-transactions-rf.v1")
    promote(client, "card-transactions", second)
    assert client.app.state.serving.snapshot.detectors["card-transactions"].champion.model_id == second
    r = client.post("/admin/v1/champion/rollback", headers=ADMIN,
                    json={"detector": "card-transactions", "reason": "challenger misbehaves"})
    assert r.status_code == 200 and r.json()["model_id"] == "card-transactions-rf.v1"
    client.app.state.serving.refresh()
    assert client.app.state.serving.snapshot.detectors["card-transactions"].champion.model_id == \
        "card-transactions-rf.v1"
    with platform.sessions() as session:
        statuses = dict(session.execute(select(tables.Model.id, tables.Model.status)).all())
        assert statuses[second] == "retired" and statuses["card-transactions-rf.v1"] == "champion"
        assert session.scalar(select(func.count()).select_from(tables.Promotion)) == 3
    r = client.post("/admin/v1/champion/rollback", headers=ADMIN,
                    json={"detector": "card-transactions", "reason": "again"})
    assert r.status_code == 409  # rf.v1 had no predecessor; the refusal is recorded too
    assert len(client.get("/admin/v1/promotions", headers=ADMIN).json()["promotions"]) == 4


def test_shadow_start_and_stop(client: TestClient) -> None:
    r = client.post("/admin/v1/models/card-transactions-rf.v1/shadow", headers=ADMIN)
    assert r.status_code == 200 and r.json()["status"] == "shadow"
    assert client.delete("/admin/v1/models/card-transactions-rf.v1/shadow", headers=ADMIN).json()["status"] == \
        "registered"
    assert client.delete("/admin/v1/models/card-transactions-rf.v1/shadow", headers=ADMIN).status_code == 409
    assert client.post("/admin/v1/models/nope/shadow", headers=ADMIN).status_code == 404


def test_strategy_versions_reach_scoring(client: TestClient, rf_bundle: Path) -> None:
    promote(client, "card-transactions", "card-transactions-rf.v1")
    r = client.put("/admin/v1/detectors/card-transactions/strategy", headers=ADMIN,
                   json={"review_threshold": 0.0, "decline_threshold": 0.0, "note": "decline everything"})
    assert r.status_code == 200 and r.json()["version"] == 2
    client.app.state.serving.refresh()
    body = client.post("/v1/detectors/card-transactions/score", json={"data": cert_rows(rf_bundle)[0]}).json()
    assert body["decision"] == "decline" and body["strategy_version"] == 2
    r = client.put("/admin/v1/detectors/card-transactions/strategy", headers=ADMIN,
                   json={"review_threshold": 0.9, "decline_threshold": 0.2})
    assert r.status_code == 422 and "must not exceed" in r.text
    r = client.put("/admin/v1/detectors/card-transactions/strategy", headers=ADMIN, json={"review_threshold": "x"})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"review_threshold",
                                                                                 "decline_threshold"}
    assert client.get("/admin/v1/detectors/card-transactions/strategy", headers=ADMIN).json()["version"] == 2


def test_rules_versions_and_no_clear_values(client: TestClient, app_logreg_bundle: Path) -> None:
    new_rules = {"rules": [{"id": "vip-device", "type": "device", "action": "review", "values": ["dev-abc"]},
                           {"id": "bad-net", "type": "ip_range", "action": "decline", "values": ["81.2.0.0/16"]}]}
    r = client.put("/admin/v1/detectors/card-applications/rules", headers=ADMIN, json=new_rules)
    assert r.status_code == 200 and r.json()["version"] == 3
    shown = client.get("/admin/v1/detectors/card-applications/rules", headers=ADMIN).json()
    assert "dev-abc" not in json.dumps(shown) and shown["rules"][0]["values"]["count"] == 1
    client.app.state.serving.refresh()
    row = cert_rows(app_logreg_bundle)[0] | {"ip": "81.2.69.142", "email": KNOWN_FRAUD_EMAILS[0]}
    body = client.post("/v1/detectors/card-applications/score", json={"data": row}).json()
    assert body["reasons"] == ["rule:bad-net"] and body["rules_version"] == 3  # the old list is gone
    r = client.put("/admin/v1/detectors/card-transactions/rules", headers=ADMIN, json=new_rules)
    assert r.status_code == 422 and "has no field" in r.json()["detail"]


def test_metrics_exposition(client: TestClient, rf_bundle: Path) -> None:
    promote(client, "card-applications", "card-applications-logreg.v1")
    promote(client, "card-transactions", "card-transactions-rf.v1")
    client.post("/v1/detectors/card-transactions/score", json={"data": cert_rows(rf_bundle)[0]})
    text = client.get("/metrics").text
    assert "arbiter_requests_total" in text and "arbiter_request_seconds_bucket" in text
    assert 'arbiter_champion_info{detector="card-transactions",model_id="card-transactions-rf.v1"} 1.0' in text
    assert 'arbiter_champion_info{detector="card-applications",model_id="card-applications-logreg.v1"} 1.0' in text


def test_no_page_loads_from_outside(client: TestClient) -> None:
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"] == "Arbiter"


def test_openapi_describes_each_detectors_fields_and_answers(client: TestClient, rf_bundle: Path) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/detectors/{detector}/score" not in paths and "/v1/detectors/{detector}/score:batch" not in paths
    score = paths["/v1/detectors/card-transactions/score"]["post"]
    body = score["requestBody"]["content"]["application/json"]["schema"]
    data = body["properties"]["data"]
    assert data["properties"]["Amount"] == {"type": "number", "minimum": 0.0, "maximum": 1e7,
                                            "description": "transaction amount"}
    assert set(data["required"]) == set(DETECTORS["card-transactions"].field_names) and not data["additionalProperties"]
    applications = paths["/v1/detectors/card-applications/score:batch"]["post"]["requestBody"]["content"]
    item = applications["application/json"]["schema"]["properties"]["applications"]["items"]
    assert item["properties"]["data"]["properties"]["employment"]["enum"][0] == "employed"
    assert {"200", "413", "422", "503"} <= set(score["responses"])
    # the schema says what validation says: certification rows conform, and a body that does not is refused
    row = cert_rows(rf_bundle)[0]
    assert jsonschema_rs.is_valid(body, {"application_id": "a-1", "data": row}, validate_formats=True)
    assert not jsonschema_rs.is_valid(body, {"data": row | {"Amount": -1.0}}, validate_formats=True)
    refused = client.post("/v1/detectors/card-transactions/score", json={"data": row | {"Amount": -1.0}})
    assert refused.status_code == 422
    assert "/v1/outcomes" in paths
    routes = {getattr(r, "path", None) for r in client.app.app.routes}
    assert "/v1/detectors/{detector}/score" not in routes  # answered by the fast path only


def test_decisions_are_recorded_once_and_without_pii(platform: Platform, client: TestClient, rf_bundle: Path,
                                                     app_logreg_bundle: Path) -> None:
    promote(client, "card-transactions", "card-transactions-rf.v1")
    row = cert_rows(rf_bundle)[0]
    first = client.post("/v1/detectors/card-transactions/score", json={"application_id": "retry-1", "data": row})
    client.put("/admin/v1/detectors/card-transactions/strategy", headers=ADMIN,
               json={"review_threshold": 0.0, "decline_threshold": 0.0})
    client.app.state.serving.refresh()
    retried = client.post("/v1/detectors/card-transactions/score", json={"application_id": "retry-1", "data": row})
    assert retried.json()["decision"] == "decline"
    app_row = cert_rows(app_logreg_bundle)[1] | {"email": KNOWN_FRAUD_EMAILS[1]}
    client.post("/v1/detectors/card-applications/score", json={"application_id": "pii-1", "data": app_row})
    assert client.app.state.fanout.flush()
    with platform.sessions() as session:
        decision = _one(session, tables.Decision, "retry-1")
        assert decision.decision == first.json()["decision"]  # the first recorded decision stands
        assert decision.strategy_version == 1 and decision.model_id == "card-transactions-rf.v1"
        assert session.scalar(select(func.count()).select_from(tables.Decision)
                              .where(tables.Decision.application_id == "retry-1")) == 1
        stored = _one(session, tables.Application, "pii-1")
        rule_decision = _one(session, tables.Decision, "pii-1")
    assert rule_decision.reasons == ["rule:known-fraud-email"] and rule_decision.model_id is None
    blob = json.dumps(stored.payload)
    for field in ("email", "ssn", "full_name", "phone", "ip", "device_id", "zip", "date_of_birth"):
        if app_row.get(field):
            assert str(app_row[field]) not in blob, field
            assert stored.payload[field].startswith("h:")
    assert stored.payload["income"] == app_row["income"] and stored.amount == app_row["requested_limit"]


def _tar(bundle: Path, tmp_path: Path, name: str = "bundle.tar.gz") -> bytes:
    import tarfile

    archive = tmp_path / name
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle, arcname="my-bundle")
    return archive.read_bytes()


def test_upload_a_bundle(platform: Platform, client: TestClient, rf_bundle: Path, tmp_path: Path) -> None:
    from tests.helpers import copy_bundle, edit_manifest, perturb_onnx

    fresh = copy_bundle(rf_bundle, tmp_path / "fresh")
    edit_manifest(fresh, created_at="2032-01-01T00:00:00Z")
    r = client.post("/admin/v1/models", headers=ADMIN, content=_tar(fresh, tmp_path))
    assert r.status_code == 201, r.text
    assert r.json()["created"] and r.json()["model"]["id"] == "card-transactions-rf.v2"
    assert r.json()["model"]["certification"]["passed"]
    perturbed = copy_bundle(rf_bundle, tmp_path / "perturbed")
    edit_manifest(perturbed, created_at="2033-01-01T00:00:00Z")
    perturb_onnx(perturbed)
    r = client.post("/admin/v1/models", headers=ADMIN, content=_tar(perturbed, tmp_path, "p.tar.gz"))
    assert r.status_code == 422 and "certification failed" in r.json()["detail"]
    r = client.post("/admin/v1/models", headers=ADMIN, content=b"not a tar")
    assert r.status_code == 422 and "not a usable tar" in r.json()["detail"]
    assert client.post("/admin/v1/models", content=_tar(fresh, tmp_path, "x.tar.gz")).status_code == 401


def test_a_bundle_rewritten_in_the_registry_is_refused_at_load(platform: Platform, client: TestClient) -> None:
    """Rewritten consistently (its manifest resealed): it passes its own hashes, not its registration's."""
    from arbiter.store.models_repo import bundle_path
    from tests.helpers import perturb_onnx

    with platform.sessions() as session:
        stored = bundle_path(platform.settings.registry_dir, session.get(tables.Model, "card-transactions-rf.v1"))
    perturb_onnx(stored)  # reseals the manifest: every file matches it again
    r = client.post("/admin/v1/champion", headers=ADMIN, json={"detector": "card-transactions", "reason": "first",
                                                                "model_id": "card-transactions-rf.v1", "force": True})
    assert r.status_code == 200
    client.app.state.serving.try_refresh()  # as its watcher does
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["champions"]["card-transactions"] is None
    assert "refused the bundle of card-transactions-rf.v1: it does not match its registered digest" in \
        ready.json()["problems"]
    assert "does not match the digest recorded at registration" in ready.json()["checks"]["state_error"]
    assert 'arbiter_bundle_refused{model_id="card-transactions-rf.v1"} 1.0' in client.get("/metrics").text
    row = json.loads((stored / "certification.json").read_text())["rows"][0]
    assert client.post("/v1/detectors/card-transactions/score", json={"data": row}).status_code == 503


class _Trap:
    """Pickled, this object writes a file when it is loaded: what an admin token could upload."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def test_an_uploaded_pickle_is_never_loaded(platform: Platform, client: TestClient, rf_bundle: Path,
                                            tmp_path: Path) -> None:
    import joblib

    from tests.helpers import copy_bundle, edit_manifest, reseal

    marker = tmp_path / "pwned.txt"
    joblib.dump(_Trap(marker), tmp_path / "probe.joblib")  # the trap works: loading it writes the file
    joblib.load(tmp_path / "probe.joblib")
    assert marker.exists()
    marker.unlink()
    evil = copy_bundle(rf_bundle, tmp_path / "evil")
    joblib.dump(_Trap(marker), evil / "model.joblib")
    manifest = json.loads((evil / "manifest.json").read_text())
    edit_manifest(evil, created_at="2034-01-01T00:00:00Z",
                  serving=manifest["serving"] | {"runtime": "sklearn", "artifact": "model.joblib"})
    reseal(evil)
    r = client.post("/admin/v1/models", headers=ADMIN, content=_tar(evil, tmp_path, "evil.tar.gz"))
    assert r.status_code == 422 and "nothing received over the network is unpickled" in r.json()["detail"]
    assert not marker.exists()  # refused before anything of it was loaded
    assert len(list((Path(platform.settings.registry_dir) / "bundles").iterdir())) == 2  # nothing stored
    with platform.sessions() as session:
        assert session.scalar(select(func.count()).select_from(tables.Model)) == 2  # the fixture's two


def test_upload_refuses_paths_outside_the_bundle(client: TestClient, tmp_path: Path) -> None:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = b"owned"
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    r = client.post("/admin/v1/models", headers=ADMIN, content=buffer.getvalue())
    assert r.status_code == 422
    assert not (tmp_path.parent / "escaped.txt").exists()


def test_logs_carry_no_pii(client: TestClient, app_logreg_bundle: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    row = cert_rows(app_logreg_bundle)[2]
    with caplog.at_level(logging.DEBUG):
        promote(client, "card-applications", "card-applications-logreg.v1")
        client.post("/v1/detectors/card-applications/score", json={"data": row})
        client.post("/v1/detectors/card-applications/score", json={"data": row | {"ssn": "bad"}})
        client.app.state.fanout.flush()
    logged = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    for field in ("email", "ssn", "full_name", "phone", "device_id", "ip"):
        if row.get(field):
            assert str(row[field]) not in logged, field


def test_a_500_is_logged_with_its_whole_stack(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import logging

    from arbiter.governance import registry
    from arbiter.logs import JsonFormatter

    def broken(*_: Any) -> None:
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(registry, "list_models", broken)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("arbiter")
    logger.addHandler(handler)
    try:
        r = client.get("/admin/v1/models", headers=ADMIN)
    finally:
        logger.removeHandler(handler)
    assert r.status_code == 500 and r.json() == {"detail": "internal error; it has been logged"}
    entry = json.loads(out.getvalue().splitlines()[-1])  # still one JSON line
    assert entry["exc"] == "RuntimeError: the disk went away"
    assert entry["stack"].startswith("Traceback") and "in broken" in entry["stack"]
    assert "in list_models" in entry["stack"]  # the route's frame too: where it came from


def _one(session: Any, table: Any, application_id: str) -> Any:
    """The row of `application_id` (the primary key also holds the moment it arrived)."""
    return session.scalars(select(table).where(table.application_id == application_id)).one()


def test_each_model_has_its_own_strategy_and_promotion_hands_it_over(platform: Platform, client: TestClient,
                                                                     tx_logreg_bundle: Path) -> None:
    from arbiter.domain.strategies import rates_under

    rf = "card-transactions-rf.v1"
    first = client.get(f"/admin/v1/models/{rf}/strategy", headers=ADMIN).json()
    assert (first["review_threshold"], first["decline_threshold"]) == (0.5, 0.8)
    assert first["basis"] == {"method": "detector strategy", "strategy_version": 1, "why": "no champion to match"}
    r = promote(client, "card-transactions", rf)
    assert (r.json()["previous_strategy_version"], r.json()["strategy_version"]) == (1, 1)  # same thresholds

    logreg = register_bundle(platform, tx_logreg_bundle).model
    own = client.get(f"/admin/v1/models/{logreg.id}/strategy", headers=ADMIN).json()
    assert own["basis"]["method"] == "matched rates" and own["in_force"] == "its shadow decisions"
    assert own["basis"]["source"] == f"{rf} on its validation window under the detector's strategy v1"
    with platform.sessions() as session:
        champion_q = session.get(tables.Model, rf).manifest["score_quantiles"]
    mine_q = logreg.manifest["score_quantiles"]
    wanted = rates_under(champion_q["scores"], 0.5, 0.8, champion_q["levels"])
    got = rates_under(mine_q["scores"], own["review_threshold"], own["decline_threshold"], mine_q["levels"])
    assert got == pytest.approx(wanted, abs=0.0002)  # the same review and decline rates, on its own scale
    assert wanted[1] > 0 and own["decline_threshold"] < 1.0
    assert (own["basis"]["review_rate"], own["basis"]["decline_rate"]) == pytest.approx(wanted)

    champion_view = client.get(f"/admin/v1/models/{rf}/strategy", headers=ADMIN).json()
    assert champion_view["in_force"] == "the detector's strategy (champion)"
    r = client.put(f"/admin/v1/models/{rf}/strategy", headers=ADMIN,
                   json={"review_threshold": 0.1, "decline_threshold": 0.2})
    assert r.status_code == 409 and "PUT /admin/v1/detectors/card-transactions/strategy" in r.json()["detail"]
    r = client.put(f"/admin/v1/models/{logreg.id}/strategy", headers=ADMIN,
                   json={"review_threshold": 0.9, "decline_threshold": 0.2})
    assert r.status_code == 422
    assert client.get("/admin/v1/models/nope.v1/strategy", headers=ADMIN).status_code == 404
    r = client.put(f"/admin/v1/models/{logreg.id}/strategy", headers=ADMIN,
                   json={"review_threshold": 0.25, "decline_threshold": 0.55, "note": "tuned"})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["basis"] == {"method": "set by hand"}

    r = promote(client, "card-transactions", logreg.id)  # forced: no shadow evidence here
    assert (r.json()["previous_strategy_version"], r.json()["strategy_version"]) == (1, 2)
    detector = client.get("/admin/v1/detectors/card-transactions/strategy", headers=ADMIN).json()
    assert (detector["version"], detector["review_threshold"], detector["decline_threshold"]) == (2, 0.25, 0.55)
    kept = client.get(f"/admin/v1/models/{rf}/strategy", headers=ADMIN).json()
    assert (kept["review_threshold"], kept["decline_threshold"], kept["basis"]["method"]) == (
        0.5, 0.8, "detector strategy")  # the thresholds it decided with, kept as its own

    r = client.post("/admin/v1/champion/rollback", headers=ADMIN,
                    json={"detector": "card-transactions", "reason": "back"})
    assert r.status_code == 200 and r.json()["model_id"] == rf
    assert (r.json()["previous_strategy_version"], r.json()["strategy_version"]) == (2, 3)
    detector = client.get("/admin/v1/detectors/card-transactions/strategy", headers=ADMIN).json()
    assert (detector["version"], detector["review_threshold"], detector["decline_threshold"]) == (3, 0.5, 0.8)


def test_the_number_of_reasons_follows_the_detectors_setting(platform: Platform, client: TestClient,
                                                             rf_bundle: Path) -> None:
    promote(client, "card-transactions", "card-transactions-rf.v1")
    platform.settings.explanation_top = "card-applications=5,1"  # read once, when the app is composed
    with TestClient(create_app(platform, refresh_interval=60)) as one_reason:
        one_reason.app.state.serving.refresh()
        bodies = [one_reason.post("/v1/detectors/card-transactions/score", json={"data": row}).json()
                  for row in cert_rows(rf_bundle)[:20]]
    platform.settings.explanation_top = "3"
    assert all(len(b["explanation"]) <= 1 for b in bodies) and any(b["explanation"] for b in bodies)
