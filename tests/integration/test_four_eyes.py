"""Four eyes (ARBITER_GOVERNANCE's default): a model is reviewed before shadow mode, a promotion is
a request another principal approves (the gates run again), strategy and rules changes are
proposals nothing serves before approval; the dashboard needs a principal and shows what waits."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import text

from arbiter.bootstrap import Platform
from arbiter.gateway.app import create_app
from arbiter.governance.audit import events
from arbiter.governance.registry import register_bundle
from tests.helpers import assert_one_line_error, copy_bundle, edit_manifest, run
from tests.integration.promotion_evidence import (
    add_champion_decisions_and_labels,
    add_shadow_scores,
    second_model,
    small_bank,
)

pytestmark = pytest.mark.integration
BOOT = "bootstrap-token-0123456789"
CAST = {"dana": ["data-scientist"], "gus": ["governance"], "sam": ["strategist"], "otto": ["operator"],
        "vera": ["viewer"], "sg": ["strategist", "governance"], "dg": ["data-scientist", "governance"]}
RF = "card-transactions-rf.v1"


class Gov:
    """The test client and a bearer header per principal of `CAST`."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens

    def as_(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def post(self, name: str, path: str, body: dict | None = None) -> object:
        return self.client.post(f"/admin/v1{path}", headers=self.as_(name), json=body or {})

    def put(self, name: str, path: str, body: dict) -> object:
        return self.client.put(f"/admin/v1{path}", headers=self.as_(name), json=body)

    def get(self, name: str, path: str) -> object:
        return self.client.get(f"/admin/v1{path}", headers=self.as_(name))

    def score(self, row: dict) -> dict:
        self.client.app.state.serving.refresh()
        r = self.client.post("/v1/detectors/card-transactions/score", json={"data": row})
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def gov(four_eyes: Platform, rf_bundle: Path) -> Iterator[Gov]:
    four_eyes.settings.admin_token = SecretStr(BOOT)
    four_eyes.settings.api_keys = None
    register_bundle(four_eyes, rf_bundle, actor="dana")
    with TestClient(create_app(four_eyes, refresh_interval=60), raise_server_exceptions=False) as client:
        tokens = {}
        for name, roles in CAST.items():
            r = client.post("/admin/v1/principals", headers={"Authorization": f"Bearer {BOOT}"},
                            json={"name": name, "roles": roles})
            tokens[name] = r.json()["token"]
        yield Gov(client, tokens)


def _force_champion(gov: Gov) -> None:
    r = gov.post("otto", "/champion", {"detector": "card-transactions", "model_id": RF, "reason": "first champion",
                                       "force": True})
    assert r.status_code == 200 and r.json()["accepted"], r.text  # break-glass acts at once, four eyes or not


def _challenger_with_evidence(platform: Platform, gov: Gov, rf_bundle: Path, tmp_path: Path) -> str:
    """rf champion (forced), and a challenger whose 40 labelled applications pass every gate."""
    _force_champion(gov)
    challenger = second_model(platform, rf_bundle, tmp_path)
    small_bank(platform)
    add_champion_decisions_and_labels(platform, RF, 40)
    add_shadow_scores(platform, challenger, 40, good=True)
    return challenger


def test_a_model_enters_shadow_only_once_governance_approved_it(four_eyes: Platform, gov: Gov,
                                                                app_logreg_bundle: Path, tmp_path: Path) -> None:
    model = register_bundle(four_eyes, app_logreg_bundle, actor="dana").model.id
    r = gov.post("sam", f"/models/{model}/shadow")
    assert r.status_code == 409 and "not yet approved" in r.json()["detail"]
    dossier = gov.get("vera", f"/models/{model}/review").json()  # any role reads what the reviewer reads
    assert dossier["model"]["review"]["decision"] == "pending"
    assert {"windows", "data_quality", "metrics", "feature_importance", "certification"} <= set(dossier["governance"])
    assert dossier["governance"]["windows"]["validation"]["rows"] > 0
    fairness = dossier["fairness"]["validation"]
    assert set(fairness["dimensions"]) == {"age_band", "region"} and dossier["fairness"]["live"] is None
    bands = fairness["dimensions"]["age_band"]
    assert sum(s["rows"] for s in bands["segments"]) == dossier["governance"]["windows"]["validation"]["rows"]
    assert 0 < bands["disparity_ratio"] <= 1 and all(0 <= s["approval_rate"] <= 1 for s in bands["segments"])
    assert fairness["thresholds"]["review"] == dossier["strategy"]["review_threshold"]

    r = gov.post("dana", f"/models/{model}/review", {"decision": "approve", "comment": "mine, looks fine"})
    assert r.status_code == 403 and "needs the role governance" in r.json()["detail"]
    r = gov.post("gus", f"/models/{model}/review", {"decision": "maybe", "comment": "hmm"})
    assert r.status_code == 422 and "decision" in r.text
    r = gov.post("gus", f"/models/{model}/review", {"decision": "reject", "comment": "age disparity unexplained"})
    assert r.status_code == 200 and r.json()["review"] == {
        "decision": "rejected", "by": "gus", "at": r.json()["review"]["at"], "comment": "age disparity unexplained"}
    assert gov.post("gus", f"/models/{model}/review", {"decision": "approve", "comment": "changed my mind"}
                    ).status_code == 409  # final: a changed model comes back as a new bundle
    r = gov.post("sam", f"/models/{model}/shadow")
    assert r.status_code == 409 and "rejected" in r.json()["detail"]

    mine = copy_bundle(app_logreg_bundle, tmp_path / "again")
    edit_manifest(mine, created_at="2031-01-01T00:00:00Z")
    again = register_bundle(four_eyes, mine, actor="dg").model.id
    r = gov.post("dg", f"/models/{again}/review", {"decision": "approve", "comment": "my own, fine"})
    assert r.status_code == 409 and "four eyes: dg registered" in r.json()["detail"]
    assert gov.post("gus", f"/models/{again}/review", {"decision": "approve", "comment": "read"}).status_code == 200
    r = gov.post("sam", f"/models/{again}/shadow")
    assert r.status_code == 200 and r.json()["status"] == "shadow"
    trail = [(e["action"], e["actor"], e["subject"]) for e in events(four_eyes) if e["action"].startswith("model.")]
    assert ("model.rejected", "gus", model) in trail and ("model.approved", "gus", again) in trail


def test_a_promotion_is_requested_then_approved_by_someone_else(four_eyes: Platform, gov: Gov, rf_bundle: Path,
                                                                tmp_path: Path) -> None:
    challenger = _challenger_with_evidence(four_eyes, gov, rf_bundle, tmp_path)
    ask = {"detector": "card-transactions", "model_id": challenger, "reason": "better on 40 labelled"}
    r = gov.post("sg", "/champion", ask)
    assert r.status_code == 202, r.text
    request = r.json()
    assert request["status"] == "pending" and request["accepted"] is False and request["actor"] == "sg"
    assert all(g["passed"] for g in request["gates"].values())
    assert gov.post("sam", "/champion", ask).status_code == 409  # one pending request per model
    assert {m["id"]: m["status"] for m in gov.get("vera", "/models").json()["models"]}[RF] == "champion"

    r = gov.post("sam", f"/promotions/{request['id']}/approve")
    assert r.status_code == 403 and "needs the role governance" in r.json()["detail"]
    r = gov.post("sg", f"/promotions/{request['id']}/approve")
    assert r.status_code == 409 and "four eyes: sg asked for promotion request" in r.json()["detail"]
    r = gov.post("gus", f"/promotions/{request['id']}/approve", {"comment": "evidence read"})
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["status"], done["accepted"], done["decided_by"], done["actor"]) == ("approved", True, "gus", "sg")
    assert all(g["passed"] for g in done["approval_gates"].values())  # the gates ran again at approval
    statuses = {m["id"]: m["status"] for m in gov.get("vera", "/models").json()["models"]}
    assert (statuses[challenger], statuses[RF]) == ("champion", "retired")
    assert gov.post("gus", f"/promotions/{request['id']}/approve").status_code == 409  # decided already
    trail = [(e["action"], e["actor"]) for e in events(four_eyes) if e["action"].startswith("promotion.")]
    assert trail == [("promotion.forced", "otto"), ("promotion.requested", "sg"), ("promotion.approved", "gus")]


def test_refused_at_approval_rejected_and_withdrawn_requests_are_on_record(four_eyes: Platform, gov: Gov,
                                                                          rf_bundle: Path, tmp_path: Path) -> None:
    challenger = _challenger_with_evidence(four_eyes, gov, rf_bundle, tmp_path)
    ask = {"detector": "card-transactions", "model_id": challenger, "reason": "try"}
    first = gov.post("sam", "/champion", ask).json()["id"]
    four_eyes.settings.promotion_min_labelled = 1000  # the evidence no longer suffices when approval comes
    r = gov.post("gus", f"/promotions/{first}/approve")
    assert r.status_code == 409 and [e["field"] for e in r.json()["errors"]] == ["evidence", "auc_vs_champion"]
    four_eyes.settings.promotion_min_labelled = 40
    second = gov.post("sam", "/champion", ask).json()["id"]
    r = gov.post("gus", f"/promotions/{second}/reject", {"comment": "wait for a full month"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    third = gov.post("sam", "/champion", ask).json()["id"]
    r = gov.post("otto", f"/promotions/{third}/withdraw")
    assert r.status_code == 409 and "only sam" in r.json()["detail"]
    assert gov.post("sam", f"/promotions/{third}/withdraw", {"comment": "wrong day"}).json()["status"] == "withdrawn"
    listed = gov.get("vera", "/promotions?detector=card-transactions").json()["promotions"]
    assert [(p["id"], p["status"], p["decided_by"]) for p in listed[:3]] == [
        (third, "withdrawn", "sam"), (second, "rejected", "gus"), (first, "refused", "gus")]
    assert listed[2]["approval_gates"]["evidence"]["passed"] is False
    assert gov.get("vera", "/promotions?status=pending").json()["promotions"] == []
    assert {m["id"]: m["status"] for m in gov.get("vera", "/models").json()["models"]}[RF] == "champion"
    actions = [e["action"] for e in events(four_eyes)]
    assert {"promotion.approval_refused", "promotion.rejected", "promotion.withdrawn"} <= set(actions)


def test_a_proposed_strategy_or_rule_set_is_not_served_before_approval(four_eyes: Platform, gov: Gov,
                                                                       rf_bundle: Path) -> None:
    _force_champion(gov)
    row = json.loads((rf_bundle / "certification.json").read_text())["rows"][0]
    assert gov.score(row)["strategy_version"] == 1
    r = gov.put("sam", "/detectors/card-transactions/strategy",
                {"review_threshold": 0.0, "decline_threshold": 0.0, "note": "decline everything"})
    assert r.status_code == 202 and r.json()["status"] == "pending" and r.json()["kind"] == "strategy"
    proposal = r.json()["id"]
    assert gov.score(row)["strategy_version"] == 1  # the proposal is not served
    assert gov.get("vera", "/detectors/card-transactions/strategy").json()["version"] == 1
    assert [p["id"] for p in gov.get("vera", "/proposals").json()["proposals"]] == [proposal]
    assert gov.post("sam", f"/proposals/{proposal}/approve").status_code == 403
    own = gov.put("sg", "/detectors/card-transactions/strategy", {"review_threshold": 0.2, "decline_threshold": 0.3})
    r = gov.post("sg", f"/proposals/{own.json()['id']}/approve")
    assert r.status_code == 409 and "four eyes" in r.json()["detail"]
    r = gov.post("gus", f"/proposals/{proposal}/approve", {"comment": "stress test agreed"})
    assert r.status_code == 200 and (r.json()["status"], r.json()["version"]) == ("approved", 2)
    served = gov.score(row)
    assert served["strategy_version"] == 2 and served["decision"] == "decline"
    assert gov.get("vera", "/detectors/card-transactions/strategy").json()["created_by"] == "gus"

    email = "fraudster@example.org"
    r = gov.put("sam", "/detectors/card-applications/rules",
                {"rules": [{"id": "deny", "type": "email", "values": [email], "action": "decline",
                            "description": "known fraud"}]})
    assert r.status_code == 202, r.text
    with four_eyes.engine.connect() as conn:
        stored = " ".join(str(v) for row in conn.execute(text("SELECT * FROM proposals")) for v in row)
    assert email not in stored  # a proposal holds identities as keyed hashes, as a rule set does
    before = gov.get("vera", "/detectors/card-applications/rules").json()["version"]
    assert gov.post("gus", f"/proposals/{r.json()['id']}/reject", {"comment": "too broad"}).json()["status"] == \
        "rejected"
    assert gov.get("vera", "/detectors/card-applications/rules").json()["version"] == before
    assert gov.get("vera", "/proposals?status=all").json()["proposals"][0]["status"] == "rejected"
    actions = [(e["action"], e["actor"]) for e in events(four_eyes) if e["action"].startswith(("proposal", "strat"))]
    assert ("proposal.created", "sam") in actions and ("proposal.approved", "gus") in actions
    assert ("strategy.changed", "gus") in actions and ("proposal.rejected", "gus") in actions


def test_the_dashboard_needs_a_principal_and_shows_what_waits(four_eyes: Platform, gov: Gov,
                                                             app_logreg_bundle: Path) -> None:
    register_bundle(four_eyes, app_logreg_bundle, actor="dana")
    gov.put("sam", "/detectors/card-transactions/strategy", {"review_threshold": 0.3, "decline_threshold": 0.9})
    r = gov.client.get("/dashboard")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    basic = base64.b64encode(f"vera:{gov.tokens['vera']}".encode()).decode()
    assert gov.client.get("/dashboard", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    bad = base64.b64encode(b"vera:not-a-token").decode()
    assert gov.client.get("/dashboard/data.json", headers={"Authorization": f"Basic {bad}"}).status_code == 401
    data = gov.client.get("/dashboard/data.json", headers=gov.as_("vera")).json()["governance"]
    assert {r["id"] for r in data["reviews"]} == {RF, "card-applications-logreg.v1"}
    assert [(p["kind"], p["proposed_by"]) for p in data["proposals"]] == [("strategy", "sam")]
    assert data["requests"] == [] and data["audit"][0]["action"] == "proposal.created"


def test_settings_are_the_operators_and_on_record(four_eyes: Platform, gov: Gov) -> None:
    r = gov.put("sam", "/settings", {"label_maturity_days": 7})
    assert r.status_code == 403 and "needs the role operator" in r.json()["detail"]
    assert gov.put("otto", "/settings", {"label_maturity_days": -1}).status_code == 422
    r = gov.put("otto", "/settings", {"label_maturity_days": 7, "false_decline_cost": 40})
    assert r.status_code == 200 and r.json()["label_maturity_days"] == 7 and r.json()["false_decline_cost"] == 40
    event = [e for e in events(four_eyes) if e["action"] == "settings.changed"][-1]
    assert event["actor"] == "otto" and event["detail"]["before"]["label_maturity_days"] == 30


def test_the_cli_acts_as_the_principal_in_arbiter_token(four_eyes: Platform, gov: Gov, cli_env: dict[str, str],
                                                        app_logreg_bundle: Path) -> None:
    model = register_bundle(four_eyes, app_logreg_bundle, actor="dana").model.id
    env = cli_env | {"ARBITER_GOVERNANCE": "four-eyes"}
    assert_one_line_error(run(env | {"ARBITER_TOKEN": gov.tokens["sam"]}, "models", "review", model, "--approve",
                              "--comment", "fine"), "needs the role governance", "sam has strategist")
    assert_one_line_error(run(env | {"ARBITER_TOKEN": "arb_forged"}, "models", "review", model, "--approve",
                              "--comment", "fine"), "ARBITER_TOKEN is not a valid token")
    shown = run(env, "models", "review", model)
    assert shown.returncode == 0 and "review: pending" in shown.stdout and "disparity ratio" in shown.stdout
    done = run(env | {"ARBITER_TOKEN": gov.tokens["gus"]}, "models", "review", model, "--approve",
               "--comment", "read it")
    assert done.returncode == 0 and f"{model} approved by gus" in done.stdout, done.stderr
    shadow = run(env, "shadow", model)  # no token: the operating-system user, visibly so
    assert shadow.returncode == 0, shadow.stderr
    actors = {e["action"]: e["actor"] for e in events(four_eyes)}
    assert actors["model.approved"] == "gus" and actors["shadow.started"].startswith("cli:")
    assert_one_line_error(run(env | {"ARBITER_TOKEN": "arb_forged"}, "report"), "ARBITER_TOKEN is not a valid token")
    listed = run(env, "proposals", "list")
    assert listed.returncode == 0 and "no pending proposals" in listed.stdout
    assert_one_line_error(run(env | {"ARBITER_TOKEN": gov.tokens["sam"]}, "promotions", "approve", "1"),
                          "needs the role governance")
