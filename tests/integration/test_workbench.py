"""The strategists' workbench over the admin API and the CLI: a threshold simulation from the
evidence equals a count of the stored rows, the cheapest thresholds respect the review capacity,
and a saved result is a strategy proposal that waits for another principal."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from arbiter.bootstrap import Platform
from arbiter.gateway.app import create_app
from arbiter.insights.evidence import rebuild
from tests.helpers import assert_one_line_error, run
from tests.integration.strategist_data import seed_champion_and_challengers

pytestmark = pytest.mark.integration
BOOT = "workbench-bootstrap-token-0123"
PATH = "/admin/v1/detectors/card-transactions/simulate"


@pytest.fixture
def bench(four_eyes: Platform) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], object]]:
    with four_eyes.engine.begin() as conn:
        seeded = seed_champion_and_challengers(conn)
    rebuild(four_eyes)  # rows written by hand: the aggregates are recounted from them
    four_eyes.settings.admin_token = SecretStr(BOOT)
    with TestClient(create_app(four_eyes, refresh_interval=60), raise_server_exceptions=False) as client:
        headers = {}
        for name, role in (("sam", "strategist"), ("gus", "governance"), ("vera", "viewer")):
            r = client.post("/admin/v1/principals", headers={"Authorization": f"Bearer {BOOT}"},
                            json={"name": name, "roles": [role]})
            headers[name] = {"Authorization": f"Bearer {r.json()['token']}"}
        yield client, headers, seeded


def _by_hand(scores: list[float], labels: list[bool], review: float, decline: float) -> dict[str, float]:
    declined = [s >= decline for s in scores]
    reviewed = [review <= s < decline for s in scores]
    missed = sum(1 for s, y in zip(scores, labels, strict=True) if y and s < review)
    false_declines = sum(1 for d, y in zip(declined, labels, strict=True) if d and not y)
    return {"decline_rate": sum(declined) / len(scores), "review_rate": sum(reviewed) / len(scores),
            "frauds_declined": sum(1 for d, y in zip(declined, labels, strict=True) if d and y),
            "frauds_missed": missed, "false_declines": false_declines,
            "expected_cost": missed * 50.0 + false_declines * 25.0}  # every seeded amount is 50


def test_simulation_equals_a_count_of_the_stored_rows(bench: tuple, cli_env: dict[str, str]) -> None:
    client, headers, seeded = bench
    body = {"review": 0.45, "decline": 0.7, "since": "2026-01-01", "review_capacity": 30}
    r = client.post(PATH, headers=headers["sam"], json=body)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["model_id"] == "m-champ" and result["champion"] and result["days"] == 3
    simulated = result["simulated"]
    for name, value in _by_hand(seeded.champion, seeded.labels, 0.45, 0.7).items():
        assert simulated[name] == pytest.approx(value, abs=1e-12), name
    assert simulated["reviews_per_day"] == pytest.approx(simulated["review_rate"] * 400 / 3)
    assert result["current"]["review_threshold"] == 0.5  # the detector's strategy in force
    best = result["best"]
    assert best["reviews_per_day"] <= 30 < simulated["reviews_per_day"]  # the capacity binds
    unbounded = client.post(PATH, headers=headers["sam"], json=body | {"review_capacity": None}).json()["best"]
    assert unbounded["expected_cost"] <= min(simulated["expected_cost"], best["expected_cost"]) + 1e-9
    assert len(result["curve"]) == 50 and result["elapsed_ms"] > 0

    # a challenger, a target decline rate
    r = client.post(PATH, headers=headers["sam"], json={"model_id": "m-good", "decline_rate": 0.1,
                                                       "since": "2026-01-01"})
    assert r.status_code == 200, r.text
    assert r.json()["simulated"]["decline_rate"] <= 0.1 and not r.json()["champion"]

    # the CLI answers the same figures
    proc = run(cli_env, "simulate", "--detector", "card-transactions", "--review", "0.45", "--decline", "0.7",
               "--since", "2026-01-01", "--capacity", "30", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["simulated"] == simulated
    table = run(cli_env, "simulate", "--detector", "card-transactions", "--review", "0.45", "--decline", "0.7",
                "--since", "2026-01-01")
    assert table.returncode == 0 and "simulated" in table.stdout and "current" in table.stdout, table.stderr
    assert_one_line_error(run(cli_env, "simulate", "--detector", "card-transactions", "--review", "0.9",
                              "--decline", "0.5"), "review must not exceed decline")
    assert_one_line_error(run(cli_env, "simulate", "--detector", "card-transactions", "--decline-rate", "0.1",
                              "--since", "2099-01-01"), "nothing to simulate")


def test_bad_requests_and_roles(bench: tuple) -> None:
    client, headers, _ = bench
    assert client.post(PATH, headers=headers["vera"], json={"review": 0.5, "decline": 0.8}).status_code == 403
    for body, field, says in (({"review": 0.9, "decline": 0.5}, "body", "review must not exceed decline"),
                              ({"review": 0.5}, "body", "give review and decline"),
                              ({"review": 0.5, "decline": 2}, "decline", "less than or equal to 1"),
                              ({"decline_rate": 0.1, "since": "soon"}, "since", "neither an ISO 8601"),
                              ({"review": 0.5, "decline": 0.8, "bogus": 1}, "bogus", "not permitted")):
        r = client.post(PATH, headers=headers["sam"], json=body)
        assert r.status_code == 422, (body, r.text)
        assert any(e["field"] == field and says in e["message"] for e in r.json()["errors"]), (body, r.json())
    r = client.post("/admin/v1/detectors/card-transactions/simulate", headers=headers["sam"],
                    json={"model_id": "nope", "review": 0.5, "decline": 0.8, "since": "2026-01-01"})
    assert r.status_code == 404


def test_a_saved_simulation_is_a_proposal_another_principal_approves(bench: tuple) -> None:
    client, headers, _ = bench
    r = client.post(PATH, headers=headers["sam"], json={"review": 0.4, "decline": 0.85, "since": "2026-01-01",
                                                       "save": True, "note": "fewer false declines"})
    assert r.status_code == 200, r.text
    proposal = r.json()["proposal"]
    assert proposal["pending"] and proposal["kind"] == "strategy" and proposal["proposed_by"] == "sam"
    assert client.get("/admin/v1/detectors/card-transactions/strategy",
                      headers=headers["sam"]).json()["decline_threshold"] == 0.8  # nothing changed yet
    assert client.post(f"/admin/v1/proposals/{proposal['id']}/approve", headers=headers["sam"],
                       json={"comment": "mine"}).status_code in (403, 409)
    r = client.post(f"/admin/v1/proposals/{proposal['id']}/approve", headers=headers["gus"], json={"comment": "ok"})
    assert r.status_code == 200, r.text
    strategy = client.get("/admin/v1/detectors/card-transactions/strategy", headers=headers["sam"]).json()
    assert (strategy["review_threshold"], strategy["decline_threshold"]) == (0.4, 0.85)
