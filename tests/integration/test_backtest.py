"""`arbiter backtest`: a registered model scored on stored applications reproduces the shadow scores
the same model gave them, is counted apart (as `<id>~backtest`) in every comparison, resumes where it
stopped without counting anything twice; on card-applications it reads the derivations recorded in
place of the PII."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select, text, update

from arbiter.bootstrap import Platform
from arbiter.broker.codec import MessageCodec
from arbiter.broker.transport import Delivery
from arbiter.governance.promotion import promote
from arbiter.governance.registry import register_bundle
from arbiter.insights.backtest import run_backtest
from arbiter.insights.outcomes import Label, record_outcomes
from arbiter.store import config_repo, tables
from models.dataio import prepare_frame
from models.detectors import get_detector
from models.explain import as_pairs
from models.runtimes import load_runtime
from models.schema import Detector
from models.synth import synthesize
from models.training import json_record
from models.validation import validate_record
from shadow_workers.handlers import ChallengerHandler, RecorderHandler
from tests.conftest import train_small
from tests.helpers import assert_one_line_error, run
from tests.integration.evidence_check import assert_matches_a_recount

pytestmark = pytest.mark.integration
DETECTOR = get_detector("card-transactions")
CODEC = MessageCodec()
START = datetime(2026, 3, 1, tzinfo=UTC)
N = 400


def _traffic(platform: Platform, champion_bundle: Path, champion_id: str, challenger_id: str,
             challenger_bundle: Path, detector: Detector = DETECTOR) -> list[str]:
    """N applications over three days: the champion's results as the gateway gives them, recorded
    and shadow-scored by the workers' own handlers (each batch is one delivery, as over the broker)."""
    champion = load_runtime(champion_bundle)
    frame = prepare_frame(synthesize(detector.name, N, 12, 0.05), detector)
    items = []
    for i, row in enumerate(frame.to_dict("records")):
        record, problems = validate_record(detector, json_record({f: row[f] for f in detector.field_names}))
        assert not problems, problems
        score, explained = champion.score_and_explain([record])
        result = {"application_id": f"bt-{i}", "score": float(score[0]), "decision": "approve", "reasons": [],
                  "model": {"id": champion_id, "name": "champion", "version": 1}, "strategy_version": 1,
                  "rules_version": 1, "elapsed_ms": 1.0, "explanation": as_pairs(explained[0])}
        result["decision"] = "decline" if result["score"] >= 0.8 else "review" if result["score"] >= 0.5 else "approve"
        items.append((record, result, START + timedelta(hours=i * 72 / N)))
    with platform.sessions() as session:
        model = session.get(tables.Model, challenger_id)
        strategy = config_repo.model_strategy_in_force(session, model)
        session.expunge(model)
    handlers = [RecorderHandler("arbiter.recorder", CODEC, platform.hasher),
                ChallengerHandler(f"arbiter.shadow.{challenger_id}", CODEC, model, load_runtime(challenger_bundle),
                                  strategy)]
    for start in range(0, N, 50):
        batch = items[start:start + 50]
        for handler in handlers:
            deliveries = [Delivery(handler.queue, k, CODEC.encode(detector.name, [item]), {})
                          for k, item in enumerate(batch)]
            prepared = handler.prepare(deliveries)
            assert not prepared.failures
            with platform.sessions() as session, session.begin():
                handler.write(session, [unit for _, _, unit in prepared.units])
    return [result["application_id"] for _, result, _ in items]


def test_a_backtest_reproduces_the_shadow_scores_and_is_compared_apart(platform: Platform, rf_bundle: Path,
                                                                     tx_logreg_bundle: Path,
                                                                     cli_env: dict[str, str]) -> None:
    champion = register_bundle(platform, rf_bundle).model.id
    promote(platform, champion, reason="first", actor="test", force=True)
    challenger = register_bundle(platform, tx_logreg_bundle).model.id
    ids = _traffic(platform, rf_bundle, champion, challenger, tx_logreg_bundle)

    # stopped after two batches, then run again: it resumes, and nothing is stored or counted twice
    calls = []

    def stop_after_two(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_backtest(platform, challenger, START - timedelta(days=1), batch=60, progress=stop_after_two)
    resumed = run_backtest(platform, challenger, START - timedelta(days=1), batch=60)
    assert resumed.resumed_from is not None and resumed.scored == N - 120 and resumed.skipped == 0

    with platform.sessions() as session:
        backtest = dict(session.execute(select(tables.BacktestScore.application_id, tables.BacktestScore.score)
                                        .where(tables.BacktestScore.model_id == challenger)).all())
        shadow = dict(session.execute(select(tables.ShadowScore.application_id, tables.ShadowScore.score)
                                      .where(tables.ShadowScore.model_id == challenger)).all())
    assert set(backtest) == set(shadow) == set(ids)
    assert max(abs(backtest[a] - shadow[a]) for a in ids) <= 1e-9  # the same model, the same answer

    # labels arriving after the backtest move its counts too; the aggregates equal a recount
    with platform.sessions() as session, session.begin():
        record_outcomes(session, [Label(a, int(a.split("-")[1]) % 7 == 0, START + timedelta(days=5))
                                  for a in ids[::2]], source="test")
    assert_matches_a_recount(platform)
    with platform.engine.connect() as conn:
        rows = {r["challenger_id"]: r for r in conn.execute(text(
            "SELECT challenger_id, paired, labelled FROM champion_challenger_comparison")).mappings()}
    assert rows[f"{challenger}~backtest"]["paired"] == N == rows[challenger]["paired"]
    assert rows[f"{challenger}~backtest"]["labelled"] == rows[challenger]["labelled"] > 0

    # the report marks it; the CLI resumes with nothing left to score
    report = run(cli_env, "report", "--detector", "card-transactions", "--since", "2026-02-01")
    assert report.returncode == 0 and f"{challenger}~backtest" in report.stdout, report.stderr
    proc = run(cli_env, "backtest", challenger, "--since", "2026-02-01")
    assert proc.returncode == 0 and "scored 0 applications" in proc.stdout, proc.stderr
    assert_one_line_error(run(cli_env, "backtest", "nope", "--since", "2026-02-01"), "no model 'nope'")


def test_card_applications_backtest_from_the_derivations_recorded_with_them(
        platform: Platform, app_logreg_bundle: Path, app_frame: pd.DataFrame, tmp_path: Path) -> None:
    """Stored applications keep their PII as keyed hashes: the challenger's features that read PII (the
    e-mail domain, zip-to-IP distance, age, SSN and device reuse) come from the recorded derivations."""
    applications = get_detector("card-applications")
    champion = register_bundle(platform, app_logreg_bundle).model.id
    promote(platform, champion, reason="first", actor="test", force=True)
    rf = train_small(app_frame, "card-applications", "rf", tmp_path / "rf").bundle_dir
    challenger = register_bundle(platform, rf).model.id
    ids = _traffic(platform, app_logreg_bundle, champion, challenger, rf, applications)
    with platform.sessions() as session:
        payload, derived = session.execute(select(tables.Application.payload, tables.Application.derived)
                                           .where(tables.Application.application_id == ids[0])).one()
    assert all(str(payload[f]).startswith("h:") for f in ("email", "ssn", "zip", "ip", "date_of_birth"))
    assert set(derived) == {"email_domain", "zip_ip_distance_km", "ssn_reuse", "device_reuse", "age_years",
                            "ip_network"}
    assert derived["email_domain"].startswith("h:") and derived["age_years"] == int(derived["age_years"])
    with platform.sessions() as session, session.begin():  # as if stored before derivations were recorded
        session.execute(update(tables.Application).where(tables.Application.application_id.in_(ids[:7]))
                        .values(derived=None))

    result = run_backtest(platform, challenger, START - timedelta(days=1), batch=150)
    assert (result.scored, result.unrecorded, result.skipped) == (N - 7, 7, 0)
    with platform.sessions() as session:
        backtest = dict(session.execute(select(tables.BacktestScore.application_id, tables.BacktestScore.score)
                                        .where(tables.BacktestScore.model_id == challenger)).all())
        shadow = dict(session.execute(select(tables.ShadowScore.application_id, tables.ShadowScore.score)
                                      .where(tables.ShadowScore.model_id == challenger)).all())
    assert set(backtest) == set(ids[7:]) and set(shadow) == set(ids)
    assert len({round(v, 6) for v in backtest.values()}) > 50  # scores that vary, not one constant
    assert max(abs(backtest[a] - shadow[a]) for a in backtest) <= 1e-9  # the same model, the same answer
