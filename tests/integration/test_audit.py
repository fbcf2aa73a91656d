"""The audit trail: every governance action appended and hash-chained; the database refuses to
change a row; a row changed, removed or moved anyway (by the table's owner) is found and named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from arbiter.bootstrap import Platform
from arbiter.domain.strategies import StrategyInput
from arbiter.governance.audit import events, verify_trail
from arbiter.governance.promotion import promote, rollback
from arbiter.governance.proposals import submit_model_strategy, submit_strategy
from arbiter.governance.registry import register_bundle
from tests.helpers import assert_one_line_error, run

pytestmark = pytest.mark.integration


def _governed(platform: Platform, rf_bundle: Path, tx_logreg_bundle: Path) -> list[str]:
    """A few governance actions, as the admin API and the CLI take them."""
    rf = register_bundle(platform, rf_bundle, actor="ds-alice").model.id
    logreg = register_bundle(platform, tx_logreg_bundle, actor="ds-bob").model.id
    promote(platform, rf, reason="first champion", actor="ops-carol", force=True)
    submit_model_strategy(platform, logreg, StrategyInput(review_threshold=0.3, decline_threshold=0.7),
                          actor="strategist-dan")  # governance off (the fixture's lab): applied at once
    submit_strategy(platform, "card-transactions", StrategyInput(review_threshold=0.45, decline_threshold=0.85),
                    actor="strategist-dan")
    promote(platform, logreg, reason="try", actor="strategist-dan")  # refused: no shadow evidence
    rollback(platform, "card-transactions", reason="nothing before", actor="ops-carol")
    return [rf, logreg]


def _tamper(platform: Platform, statement: str) -> None:
    """What only the table's owner can do: lift the append-only trigger, change rows, put it back."""
    postgres = platform.engine.dialect.name == "postgresql"
    with platform.engine.begin() as conn:
        if postgres:
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))
        for part in statement.split(";"):
            conn.execute(text(part))
        if postgres:
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


def test_every_action_is_on_the_chain_with_its_actor(db: Platform, rf_bundle: Path, tx_logreg_bundle: Path) -> None:
    rf, logreg = _governed(db, rf_bundle, tx_logreg_bundle)
    trail = events(db)
    assert [(e["action"], e["actor"], e["subject"]) for e in trail] == [
        ("model.registered", "ds-alice", rf), ("model.registered", "ds-bob", logreg),
        ("promotion.forced", "ops-carol", rf), ("model_strategy.changed", "strategist-dan", logreg),
        ("strategy.changed", "strategist-dan", "card-transactions"),
        ("promotion.refused", "strategist-dan", logreg), ("rollback.refused", "ops-carol", "card-transactions")]
    assert trail[5]["detail"]["failed_gates"][:2] == ["shadow_volume", "shadow_coverage"]
    assert [e["prev_hash"] for e in trail[1:]] == [e["hash"] for e in trail[:-1]]
    verdict = verify_trail(db)
    assert (verdict.events, verdict.broken_at) == (7, None)


@pytest.mark.parametrize(("statement", "broken_at", "reason"), [
    ("UPDATE audit_events SET actor = 'someone-else' WHERE id = 3", 3, "event 3 was changed after it was written"),
    ("DELETE FROM audit_events WHERE id = 4", 5, "event 5 follows event 3"),
    ("UPDATE audit_events SET id = 100 WHERE id = 5; UPDATE audit_events SET id = 5 WHERE id = 6; "
     "UPDATE audit_events SET id = 6 WHERE id = 100", 5,
     "event 5 does not link to the event before it"),
])
def test_a_row_changed_removed_or_moved_is_named(db: Platform, rf_bundle: Path, tx_logreg_bundle: Path,
                                                 statement: str, broken_at: int, reason: str) -> None:
    _governed(db, rf_bundle, tx_logreg_bundle)
    _tamper(db, statement)
    verdict = verify_trail(db)
    assert verdict.broken_at == broken_at and verdict.reason.startswith(reason), verdict


def test_the_database_refuses_to_change_or_delete_an_event(db: Platform, rf_bundle: Path,
                                                           tx_logreg_bundle: Path) -> None:
    _governed(db, rf_bundle, tx_logreg_bundle)
    for statement in ("UPDATE audit_events SET actor = 'x' WHERE id = 1", "DELETE FROM audit_events WHERE id = 7"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
    assert verify_trail(db).events == 7


def test_audit_commands_and_route(platform: Platform, cli_env: dict[str, str], rf_bundle: Path,
                                  tx_logreg_bundle: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from arbiter.gateway.app import create_app

    _governed(platform, rf_bundle, tx_logreg_bundle)
    proc = run(cli_env, "audit", "verify")
    assert proc.returncode == 0 and proc.stdout.strip() == "audit trail intact: 7 events", proc.stderr
    out = tmp_path / "trail.jsonl"
    assert run(cli_env, "audit", "export", str(out)).returncode == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["id"] for e in lines] == list(range(1, 8)) and lines[-1]["hash"] == events(platform)[-1]["hash"]
    _tamper(platform, "UPDATE audit_events SET detail = '{}' WHERE id = 2")
    assert_one_line_error(run(cli_env, "audit", "verify"), "audit trail broken", "event 2 was changed")
    assert_one_line_error(run(cli_env, "audit", "export", str(tmp_path / "missing" / "x.jsonl")), "cannot write")

    platform.settings.admin_token = SecretStr("audit-token-0123456789")
    with TestClient(create_app(platform, refresh_interval=60), raise_server_exceptions=False) as client:
        headers = {"Authorization": "Bearer audit-token-0123456789"}
        assert len(client.get("/admin/v1/audit", headers=headers).json()["events"]) == 7
        assert client.get("/admin/v1/audit?since=1h", headers=headers).json()["events"][0]["id"] == 1
        bad = client.get("/admin/v1/audit?since=yesterday-ish", headers=headers)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "since"
        assert client.get("/admin/v1/audit").status_code == 401
