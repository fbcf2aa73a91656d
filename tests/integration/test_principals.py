"""Principals and roles on the admin API: tokens shown once and stored hashed, each role allowed
and refused (403 names the role), revocation refused at once, the actor on record the principal."""

from __future__ import annotations

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
from tests.helpers import assert_one_line_error, run

pytestmark = pytest.mark.integration
BOOT = "bootstrap-token-0123456789"


@pytest.fixture
def client(platform: Platform, rf_bundle: Path) -> Iterator[TestClient]:
    platform.settings.admin_token = SecretStr(BOOT)
    register_bundle(platform, rf_bundle, actor="test")
    with TestClient(create_app(platform, refresh_interval=60), raise_server_exceptions=False) as test_client:
        yield test_client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _add(client: TestClient, name: str, *roles: str) -> str:
    r = client.post("/admin/v1/principals", headers=_bearer(BOOT), json={"name": name, "roles": list(roles)})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def test_each_role_is_allowed_or_refused_naming_the_role(platform: Platform, client: TestClient) -> None:
    viewer, strategist, scientist, operator = (_add(client, "vera", "viewer"), _add(client, "sam", "strategist"),
                                               _add(client, "dana", "data-scientist"), _add(client, "otto", "operator"))
    assert client.get("/admin/v1/models", headers=_bearer(viewer)).status_code == 200
    assert client.get("/admin/v1/audit", headers=_bearer(viewer)).status_code == 200
    strategy = {"review_threshold": 0.4, "decline_threshold": 0.9}
    refused = client.put("/admin/v1/detectors/card-transactions/strategy", headers=_bearer(viewer), json=strategy)
    assert refused.status_code == 403 and "needs the role strategist" in refused.json()["detail"]
    assert "vera has viewer" in refused.json()["detail"]
    done = client.put("/admin/v1/detectors/card-transactions/strategy", headers=_bearer(strategist), json=strategy)
    assert done.status_code == 200 and done.json()["created_by"] == "sam"
    promote = {"detector": "card-transactions", "model_id": "card-transactions-rf.v1", "reason": "first"}
    r = client.post("/admin/v1/champion", headers=_bearer(strategist), json=promote | {"force": True})
    assert r.status_code == 403 and "operator (force is break-glass)" in r.json()["detail"]
    r = client.post("/admin/v1/champion", headers=_bearer(operator), json=promote | {"force": True})
    assert r.status_code == 200 and r.json()["actor"] == "otto"
    r = client.post("/admin/v1/principals", headers=_bearer(strategist), json={"name": "eve", "roles": ["operator"]})
    assert r.status_code == 403 and "needs the role operator" in r.json()["detail"]
    assert client.post("/admin/v1/models", headers=_bearer(strategist), content=b"x").status_code == 403
    assert client.post("/admin/v1/models", headers=_bearer(scientist), content=b"x").status_code == 422  # let in
    # the actor on record is the principal, whatever header the client sends
    r = client.put("/admin/v1/detectors/card-transactions/strategy", json=strategy,
                   headers=_bearer(strategist) | {"X-Actor": "somebody-else"})
    assert r.json()["created_by"] == "sam"
    assert [e["actor"] for e in events(platform) if e["action"] == "strategy.changed"] == ["sam", "sam"]


def test_tokens_are_shown_once_stored_hashed_and_revoked_at_once(platform: Platform, client: TestClient) -> None:
    token = _add(client, "sam", "strategist")
    assert client.get("/admin/v1/models", headers=_bearer(token)).status_code == 200
    listed = client.get("/admin/v1/principals", headers=_bearer(BOOT)).json()["principals"]
    assert [p["name"] for p in listed] == ["sam"] and "token" not in listed[0]
    with platform.engine.connect() as conn:
        stored = " ".join(str(v) for row in conn.execute(text("SELECT * FROM principals")) for v in row)
        audit = " ".join(str(v) for row in conn.execute(text("SELECT * FROM audit_events")) for v in row)
    assert token not in stored and token not in audit and token[4:20] not in stored
    assert client.delete("/admin/v1/principals/sam", headers=_bearer(BOOT)).status_code == 200
    r = client.get("/admin/v1/models", headers=_bearer(token))  # the same running gateway, no restart
    assert r.status_code == 403 and "revoked" in r.json()["detail"]
    assert client.delete("/admin/v1/principals/sam", headers=_bearer(BOOT)).status_code == 409
    again = client.post("/admin/v1/principals", headers=_bearer(BOOT), json={"name": "sam", "roles": ["viewer"]})
    assert again.status_code == 409  # names are never reused: the audit trail's actors stay unambiguous
    bad = client.post("/admin/v1/principals", headers=_bearer(BOOT), json={"name": "Bad Name", "roles": ["chief"]})
    assert bad.status_code == 422
    assert [e["action"] for e in events(platform)][-2:] == ["principal.added", "principal.revoked"]


def test_without_the_bootstrap_token_a_principal_still_works(client: TestClient) -> None:
    token = _add(client, "otto", "operator")
    client.app.state.admin_token = None
    assert client.get("/admin/v1/principals", headers=_bearer(token)).status_code == 200
    assert client.get("/admin/v1/principals", headers=_bearer(BOOT)).status_code == 403


def test_principals_commands(cli_env: dict[str, str]) -> None:
    proc = run(cli_env, "principals", "add", "gina", "--role", "governance", "--role", "viewer")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("arb_") and len(lines[0]) > 40
    listing = run(cli_env, "principals", "list").stdout
    assert "gina" in listing and "governance, viewer" in listing and "active" in listing and lines[0] not in listing
    assert run(cli_env, "principals", "revoke", "gina").returncode == 0
    assert "revoked" in run(cli_env, "principals", "list").stdout
    assert_one_line_error(run(cli_env, "principals", "revoke", "gina"), "revoked already")
    assert_one_line_error(run(cli_env, "principals", "add", "x", "--role", "king"), "king")
    assert_one_line_error(run(cli_env, "principals", "revoke", "nobody"), "no principal named 'nobody'")


def test_force_is_break_glass_never_past_certification_and_reviewed_by_someone_else(
        platform: Platform, client: TestClient) -> None:
    from sqlalchemy import update

    from arbiter.store import tables

    otto, gina = _add(client, "otto", "operator", "governance"), _add(client, "gina", "governance")
    promote = {"detector": "card-transactions", "model_id": "card-transactions-rf.v1", "reason": "outage",
               "force": True}
    with platform.sessions() as session, session.begin():
        session.execute(update(tables.Model).where(tables.Model.id == "card-transactions-rf.v1")
                        .values(certification={"passed": False, "max_abs_diff": 0.3}))
    r = client.post("/admin/v1/champion", headers=_bearer(otto), json=promote)
    assert r.status_code == 409 and "certified" in [e["field"] for e in r.json()["errors"]]  # even forced
    with platform.sessions() as session, session.begin():
        session.execute(update(tables.Model).where(tables.Model.id == "card-transactions-rf.v1")
                        .values(certification={"passed": True, "max_abs_diff": 1e-7}))
    forced = client.post("/admin/v1/champion", headers=_bearer(otto), json=promote).json()
    assert forced["forced"] and forced["needs_review"] and forced["reviewed_by"] is None
    review = f"/admin/v1/promotions/{forced['id']}/review"
    mine = client.post(review, headers=_bearer(otto), json={"comment": "looks fine to me"})
    assert mine.status_code == 409 and "four eyes" in mine.json()["detail"]
    done = client.post(review, headers=_bearer(gina), json={"comment": "outage confirmed"})
    assert done.status_code == 200 and done.json()["reviewed_by"] == "gina" and not done.json()["needs_review"]
    assert client.post(review, headers=_bearer(gina), json={"comment": "again"}).status_code == 409
    refused = client.get("/admin/v1/promotions", headers=_bearer(gina)).json()["promotions"][-1]
    assert client.post(f"/admin/v1/promotions/{refused['id']}/review", headers=_bearer(gina),
                       json={"comment": "x" * 5}).status_code == 409  # the refused one was not forced
    assert client.post("/admin/v1/promotions/999/review", headers=_bearer(gina), json={"comment": "xyz"}
                       ).status_code == 404
    assert events(platform)[-1]["action"] == "promotion.force_reviewed"
