"""Labels arriving later: `POST /v1/outcomes` and `arbiter outcomes import`, on the real Postgres."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from arbiter.bootstrap import Platform
from arbiter.gateway.app import create_app
from arbiter.governance.registry import register_bundle
from arbiter.store import tables

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": "Bearer outcomes-token-0123456789"}


@pytest.fixture
def client(platform: Platform, rf_bundle: Path) -> Iterator[TestClient]:
    """A gateway whose champion has decided applications o-1, o-2 and o-3."""
    platform.settings.admin_token = SecretStr(ADMIN["Authorization"].split()[1])
    model = register_bundle(platform, rf_bundle).model
    with TestClient(create_app(platform, refresh_interval=60)) as test_client:
        r = test_client.post("/admin/v1/champion", headers=ADMIN, json={
            "detector": "card-transactions", "model_id": model.id, "reason": "outcomes test", "force": True})
        assert r.status_code == 200, r.text
        test_client.app.state.serving.refresh()
        row = json.loads((rf_bundle / "certification.json").read_text())["rows"][0]
        for i in (1, 2, 3):
            assert test_client.post("/v1/detectors/card-transactions/score",
                                    json={"application_id": f"o-{i}", "data": row}).status_code == 200
        assert test_client.app.state.fanout.flush()
        yield test_client


def _post(client: TestClient, *labels: tuple[str, object, str]) -> dict:
    r = client.post("/v1/outcomes", json={"outcomes": [
        {"application_id": a, "is_fraud": f, "observed_at": t} for a, f, t in labels]})
    assert r.status_code == 200, r.text
    return r.json()


def test_outcomes_are_idempotent_later_labels_replace_earlier_ones_on_record(client: TestClient,
                                                                             platform: Platform) -> None:
    first = _post(client, ("o-1", True, "2026-02-01T10:00:00Z"), ("o-2", False, "2026-02-01T10:00:00Z"),
                  ("nobody", True, "2026-02-01T10:00:00Z"))
    assert (first["inserted"], first["unknown"], first["unknown_ids"]) == (2, 1, ["nobody"])
    again = _post(client, ("o-1", True, "2026-02-01T10:00:00Z"), ("o-2", False, "2026-02-01T10:00:00Z"))
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    later = _post(client, ("o-2", True, "2026-03-01T09:00:00+00:00"), ("o-1", False, "2026-01-15T00:00:00Z"))
    assert (later["updated"], later["stale"]) == (1, 1)  # a newer label replaces; an older one does not
    with platform.sessions() as session:
        outcomes = {o.application_id: (o.is_fraud, o.revision) for o in session.scalars(select(tables.Outcome))}
        history = session.execute(select(tables.OutcomeHistory.application_id, tables.OutcomeHistory.revision,
                                         tables.OutcomeHistory.is_fraud)
                                  .order_by(tables.OutcomeHistory.application_id, tables.OutcomeHistory.revision)).all()
    assert outcomes == {"o-1": (True, 1), "o-2": (True, 2)}
    assert [tuple(h) for h in history] == [("o-1", 1, True), ("o-2", 1, False), ("o-2", 2, True)]


@pytest.mark.parametrize(("body", "field"), [
    ({"outcomes": [{"application_id": "o-1", "is_fraud": "yes", "observed_at": "2026-02-01T10:00:00Z"}]},
     "outcomes.0.is_fraud"),
    ({"outcomes": [{"application_id": "o-1", "is_fraud": True, "observed_at": "last tuesday"}]},
     "outcomes.0.observed_at"),
    ({"outcomes": [{"application_id": "o-1", "is_fraud": True, "observed_at": "2026-02-01", "x": 1}]},
     "outcomes.0.x"),
    ({"outcomes": [{"is_fraud": True, "observed_at": "2026-02-01T10:00:00Z"}]}, "outcomes.0.application_id"),
    ({"outcomes": []}, "outcomes"),
    ({"outcomes": "o-1"}, "outcomes"),
    ({"outcomes": [{"application_id": "o-1", "is_fraud": True, "observed_at": "2026-02-01T10:00:00Z"}] * 10_001},
     "outcomes"),
])
def test_bad_outcomes_get_422_naming_the_field(client: TestClient, body: dict, field: str) -> None:
    r = client.post("/v1/outcomes", json=body)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


def _import(cli_env: dict[str, str], path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("arbiter")), "outcomes", "import", str(path)],
                          env=cli_env, capture_output=True, text=True, timeout=120)


def test_outcomes_import_from_csv(client: TestClient, cli_env: dict[str, str], platform: Platform,
                                  tmp_path: Path) -> None:
    good = tmp_path / "labels.csv"
    good.write_text("application_id,is_fraud,observed_at\no-1,1,2026-02-01T10:00:00\no-3,false,2026-02-02\n"
                    "ghost,true,2026-02-02T00:00:00Z\n")
    proc = _import(cli_env, good)
    assert proc.returncode == 0, proc.stderr
    assert "3 outcomes: 2 new" in proc.stdout and "1 for unknown applications (e.g. ghost)" in proc.stdout
    assert "unchanged" in _import(cli_env, good).stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("application_id,is_fraud,observed_at\no-2,maybe,2026-02-01\n")
    proc = _import(cli_env, bad)
    last_line = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode == 1 and last_line.endswith("line 2: is_fraud must be true or false"), proc.stderr
    headless = tmp_path / "headless.csv"
    headless.write_text("id,label\nx,1\n")
    proc = _import(cli_env, headless)
    assert proc.returncode == 1 and "missing: application_id, is_fraud, observed_at" in proc.stderr
    with platform.sessions() as session:
        assert sorted(session.scalars(select(tables.Outcome.application_id))) == ["o-1", "o-3"]
