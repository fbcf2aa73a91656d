"""Shadow mode over the real RabbitMQ into the real Postgres: exact counts through every outage.

Each test has its own vhost; the gateway runs in-process (TestClient) and publishes to RabbitMQ;
`arbiter worker` runs as separate processes, as in production.
"""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime

import pika
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from arbiter.gateway.app import create_app
from tests.integration.evidence_check import assert_matches_a_recount
from tests.integration.shadow_rig import ADMIN, DETECTOR, ShadowRig, application_bundles, rabbit_url, rabbitmqctl, rig

pytestmark = pytest.mark.integration
__all__ = ["application_bundles", "rabbit_url", "rig"]  # fixtures
N = 5000


def _coverage(rig: ShadowRig) -> dict[str, dict]:
    with rig.platform.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM shadow_coverage")).mappings().all()
    return {r["model_id"]: dict(r) for r in rows}


def _assert_exact(rig: ShadowRig, counts: dict[str, int], expected: int) -> None:
    assert counts.get("decisions") == expected, (counts, rig.worker_logs())
    assert counts.get("applications") == expected, counts
    for model_id in rig.challengers:
        assert counts.get(model_id) == expected, (model_id, counts, rig.worker_logs())
    coverage = _coverage(rig)
    for model_id in rig.challengers:
        row = coverage[model_id]
        assert (row["published"], row["scored"], row["dead_lettered"], row["pending"]) == (expected, expected, 0, 0)


def test_every_application_is_decided_once_and_shadowed_by_every_challenger(rig: ShadowRig) -> None:
    """...and each challenger's would-be decisions follow its own thresholds."""
    own = rig.challengers[-1]
    r = rig.client.put(f"/admin/v1/models/{own}/strategy", headers=ADMIN,
                       json={"review_threshold": 0.3, "decline_threshold": 0.6, "note": "its own scale"})
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    rig.start_worker()
    statuses = [rig.score(app) for app in rig.applications(N, "exact")]
    assert statuses.count(200) == N
    _assert_exact(rig, rig.wait_for(N), N)
    with rig.platform.engine.connect() as conn:
        decided = dict(conn.execute(text("SELECT model_id IS NULL, count(*) FROM decisions GROUP BY 1")).all())
        versions = dict(conn.execute(text(
            "SELECT model_id, MIN(strategy_version) FROM shadow_scores "
            "GROUP BY model_id HAVING MIN(strategy_version) = MAX(strategy_version)")).all())
        thresholds = {m: (r, d) for m, r, d in conn.execute(text(
            "SELECT model_id, review_threshold, decline_threshold FROM model_strategies s WHERE version = "
            "(SELECT MAX(version) FROM model_strategies WHERE model_id = s.model_id)"))}
        stored = conn.execute(text("SELECT model_id, score, decision FROM shadow_scores")).all()
        explained = dict(conn.execute(text("SELECT model_id, count(explanation) FROM shadow_scores GROUP BY 1")).all())
        champion_explained = conn.execute(text("SELECT explanation FROM decisions WHERE explanation IS NOT NULL")
                                          ).scalars().all()
        rule_explained = conn.execute(text("SELECT count(explanation) FROM decisions WHERE model_id IS NULL")).scalar()
    assert decided.get(False, 0) > 0 and sum(decided.values()) == N  # champion scores, plus rule hits
    # explanations stored with the champion's decisions and the shadow scores of models that explain
    assert champion_explained and rule_explained == 0
    assert all(isinstance(f, str) and c > 0 for e in champion_explained for f, c in e)
    recipes = {m: m.split("-", 2)[-1].rsplit(".", 1)[0] for m in rig.challengers}
    assert {recipes[m]: n > 0 for m, n in explained.items()} == {"logreg": True, "hgb": True,
                                                                 "isolation-forest": True}
    assert versions == {m: 2 if m == own else 1 for m in rig.challengers}
    assert thresholds[own] == (0.3, 0.6)
    for model_id, score, decision in stored:
        review, decline = thresholds[model_id]
        assert decision == ("decline" if score >= decline else "review" if score >= review else "approve")


def test_a_worker_killed_mid_stream_or_stopped_loses_and_duplicates_nothing(rig: ShadowRig) -> None:
    worker = rig.start_worker()
    applications = rig.applications(N, "kill")
    for i, application in enumerate(applications):
        assert rig.score(application) == 200
        if i % 250 == 249:  # labels arriving while the workers store the scores they move
            _label(rig, applications[i - 249:i + 1])
        if i == N // 3:
            in_flight = rig.counts()
            worker.kill()  # SIGKILL: no chance to finish or acknowledge anything
            worker.wait(timeout=10)
            worker = rig.start_worker()
        elif i == 2 * N // 3:
            worker.terminate()  # SIGTERM: finishes the batch in hand, then exits cleanly
            assert worker.wait(timeout=30) == 0, rig.worker_logs()
            worker = rig.start_worker()
    assert 0 < in_flight["decisions"] < N, in_flight  # the kill really came mid-stream
    _assert_exact(rig, rig.wait_for(N), N)
    _label(rig, applications[::3])  # late labels, some revised
    counted = assert_matches_a_recount(rig.platform)  # the aggregates agree with the rows, nothing twice
    assert counted["evidence_pairs"] > 0 and counted["evidence_bins"] > 0


def _label(rig: ShadowRig, applications: list[dict]) -> None:
    outcomes = [{"application_id": a["application_id"], "is_fraud": int(a["application_id"].rsplit("-", 1)[1]) % 3 == 0,
                 "observed_at": datetime.now(UTC).isoformat()} for a in applications]
    assert rig.client.post("/v1/outcomes", json={"outcomes": outcomes}).status_code == 200


def test_the_gateway_keeps_answering_while_the_broker_is_down_and_everything_lands(rig: ShadowRig) -> None:
    rig.start_worker()
    statuses, during = [], {}
    for i, application in enumerate(rig.applications(N, "outage")):
        statuses.append(rig.score(application))
        if i == 1000:
            rabbitmqctl("stop_app")
        elif i == 2500:
            during = rig.client.get("/readyz").json()["checks"]["broker"]
        elif i == 3000:
            rabbitmqctl("start_app")
    assert statuses.count(200) == N  # zero gateway errors while the broker was away
    assert during["state"].startswith("unreachable") and during["spool_depth"] > 0, during
    _assert_exact(rig, rig.wait_for(N), N)
    assert rig.client.get("/readyz").json()["checks"]["broker"]["spool_depth"] == 0


def test_a_postgres_restart_during_traffic_loses_nothing(rig: ShadowRig) -> None:
    rig.start_worker()
    version = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True).stdout.split()[0]
    for i, application in enumerate(rig.applications(N, "pgrestart")):
        assert rig.score(application) == 200
        if i == N // 2:
            restart = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                                     capture_output=True, text=True, timeout=120)
            assert restart.returncode == 0, restart.stderr
    _assert_exact(rig, rig.wait_for(N), N)
    assert_matches_a_recount(rig.platform)


def _amqp(rig: ShadowRig) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(rig.platform.settings.broker_url))


def test_poison_messages_are_dead_lettered_with_the_reason_and_the_rest_flow(rig: ShadowRig) -> None:
    applications = rig.applications(300, "poison")
    for application in applications[:150]:
        assert rig.score(application) == 200
    assert rig.client.app.state.fanout.flush()
    connection = _amqp(rig)
    channel = connection.channel()
    method, _, body = channel.basic_get("arbiter.recorder")  # what rests on the broker: sealed, no PII
    channel.basic_nack(method.delivery_tag, requeue=True)
    assert body.startswith(b"AG1") and applications[0]["data"]["email"].encode() not in body
    bad_record = (b'{"v":1,"detector":"card-applications","published_at":"2026-01-01T00:00:00+00:00",'
                  b'"applications":[{"application_id":"bad-record","received_at":"2026-01-01T00:00:00+00:00",'
                  b'"record":{"income":"lots"},"result":{"decision":"approve"}}]}')
    for poison in (b"\x00\x01 not a message", bad_record):
        channel.basic_publish("arbiter.applications", DETECTOR, poison, pika.BasicProperties(delivery_mode=2))
    rig.start_worker()
    for application in applications[150:]:
        assert rig.score(application) == 200
    counts = rig.wait_for(300)
    assert counts["decisions"] == 300 and all(counts[m] == 300 for m in rig.challengers), counts

    dead = []
    for _ in range(60):
        with rig.platform.engine.connect() as conn:
            dead = conn.execute(text("SELECT queue, model_id, reason FROM dead_letters")).all()
        if len(dead) >= 8:
            break
        time.sleep(0.5)
    assert len(dead) == 8, dead  # two poison messages x (recorder + three challengers)
    assert sum(r.reason.startswith("undecodable") for r in dead) == 4
    assert sum(r.reason.startswith("invalid record") for r in dead) == 4
    headers = []
    while (got := channel.basic_get("arbiter.dead", auto_ack=True))[0] is not None:
        headers.append(got[1].headers)
    connection.close()
    assert len(headers) == 8 and all(h["x-arbiter-reason"] and h["x-arbiter-queue"] for h in headers)
    for model_id, row in _coverage(rig).items():
        assert (row["published"], row["scored"], row["dead_lettered"], row["pending"]) == (300, 300, 2, 0), model_id


def _queue_exists(rig: ShadowRig, queue: str) -> bool:
    connection = _amqp(rig)
    try:
        connection.channel().queue_declare(queue, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if connection.is_open:
            connection.close()


def test_starting_and_stopping_a_challenger_takes_effect_without_restarts(rig: ShadowRig) -> None:
    rig.start_worker()
    applications = rig.applications(600, "toggle")
    stopped = rig.challengers[0]
    for application in applications[:200]:
        assert rig.score(application) == 200
    rig.wait_for(200)
    assert rig.client.delete(f"/admin/v1/models/{stopped}/shadow", headers=ADMIN).status_code == 200
    for application in applications[200:400]:
        assert rig.score(application) == 200
    rig.challengers = rig.challengers[1:]
    rig.wait_for(400)
    for _ in range(40):  # the worker drains the former challenger's queue, then deletes it
        if not _queue_exists(rig, f"arbiter.shadow.{stopped}"):
            break
        time.sleep(0.5)
    assert not _queue_exists(rig, f"arbiter.shadow.{stopped}")
    assert rig.client.post(f"/admin/v1/models/{stopped}/shadow", headers=ADMIN).status_code == 200
    for application in applications[400:]:
        assert rig.score(application) == 200
    counts = rig.wait_for({"decisions": 600, stopped: 400} | dict.fromkeys(rig.challengers, 600))
    assert counts[stopped] == 400 and all(counts[m] == 600 for m in rig.challengers), counts
    row = _coverage(rig)[stopped]
    assert (row["published"], row["scored"], row["pending"]) == (200, 200, 0), row


def test_a_gateway_started_while_the_broker_is_down_serves_and_catches_up(rig: ShadowRig) -> None:
    rabbitmqctl("stop_app")
    with TestClient(create_app(rig.platform, refresh_interval=0.5)) as late:
        statuses = [late.post(f"/v1/detectors/{DETECTOR}/score", json=application).status_code
                    for application in rig.applications(300, "late")]
        assert late.app.state.fanout.publisher.flush()
        broker = late.get("/readyz").json()["checks"]["broker"]
        rabbitmqctl("start_app")
        rig.start_worker()
        counts = rig.wait_for(300)
    assert statuses == [200] * 300
    assert broker["state"].startswith("unreachable") and broker["spool_depth"] > 0, broker
    assert counts["decisions"] == 300 and all(counts[m] == 300 for m in rig.challengers), counts
