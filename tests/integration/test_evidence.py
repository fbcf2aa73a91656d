"""The evidence aggregates, kept by the recorder, the challengers and the outcomes path, equal a
recount from the raw tables after a random mix of decisions, shadow scores, redeliveries, late and
revised labels; on the real Postgres and on SQLite."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sqlalchemy import func, select, text

from arbiter.bootstrap import Platform
from arbiter.broker.codec import MessageCodec
from arbiter.broker.transport import Delivery
from arbiter.domain.evidence import Deltas, auc_from_bins
from arbiter.domain.strategies import Strategy
from arbiter.insights.outcomes import Label, record_outcomes
from arbiter.store import tables
from models.dataio import prepare_frame
from models.detectors import get_detector
from models.synth import synthesize
from models.validation import validate_record
from shadow_workers.handlers import ChallengerHandler, RecorderHandler
from tests.integration.evidence_check import assert_matches_a_recount, stored_scores
from tests.integration.strategist_data import OLD, add_model, decide

pytestmark = pytest.mark.integration
DETECTOR = get_detector("card-transactions")
CODEC = MessageCodec()


class SeededScores:
    """A challenger's model: a score per application id, fixed by a seed (so redeliveries agree)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def score_records(self, records: list[dict[str, Any]]) -> np.ndarray:
        return np.array([random.Random(f"{self.seed}-{r['Time']}").random() for r in records])

    def score_and_explain(self, records: list[dict[str, Any]], top: int | None = None
                          ) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
        """The scores, and seeded reasons (two or three of V1..V4, strongest first)."""
        explained = []
        for r in records:
            rng = random.Random(f"why-{self.seed}-{r['Time']}")
            features = rng.sample(["V1", "V2", "V3", "V4"], rng.choice([2, 3]))
            explained.append([{"feature": f, "contribution": round(0.3 / (k + 1), 3), "text": f"{f} raised the score"}
                              for k, f in enumerate(features)])
        return self.score_records(records), explained


def _applications(n: int, rng: random.Random) -> list[tuple[dict[str, Any], dict[str, Any], datetime]]:
    """(record, champion result, received_at): some decided by a rule, over five days."""
    frame = prepare_frame(synthesize("card-transactions", n, 3, 0.1), DETECTOR)
    apps = []
    for i, row in enumerate(frame.to_dict("records")):
        record, problems = validate_record(DETECTOR, {f: row[f] for f in DETECTOR.field_names} | {"Time": float(i)})
        assert not problems
        at = OLD + timedelta(days=rng.randrange(5), seconds=rng.randrange(86_400))
        score = round(rng.random(), 3)
        result = {"application_id": f"mix-{i}", "score": score, "decision": decide(score), "reasons": [],
                  "model": {"id": "m-champ", "name": "m-champ", "version": 1}, "strategy_version": 1,
                  "rules_version": 1, "elapsed_ms": 1.0,
                  "explanation": [["V14", 0.4], ["Amount", round(rng.random() * 0.2, 3)]]}  # as published: pairs
        if rng.random() < 0.08:  # a rule decided it: no score, nothing to pair
            result |= {"score": None, "decision": "decline", "model": None, "reasons": ["rule:known-fraud"],
                       "explanation": None}
        apps.append((record, result, at))
    return apps


def _deliveries(queue: str, batch: list) -> list[Delivery]:
    return [Delivery(queue, i, CODEC.encode("card-transactions", [item]), {}) for i, item in enumerate(batch)]


def _write(platform: Platform, handler: Any, batch: list) -> None:
    prepared = handler.prepare(_deliveries(handler.queue, batch))
    assert not prepared.failures
    with platform.sessions() as session, session.begin():
        handler.write(session, [unit for _, _, unit in prepared.units])


def test_aggregates_equal_a_recount_after_a_random_mix(db: Platform) -> None:
    rng = random.Random(11)
    with db.engine.begin() as conn:
        for model_id, status in (("m-champ", "champion"), ("m-a", "shadow"), ("m-b", "shadow")):
            add_model(conn, model_id, status=status)
        conn.execute(tables.ModelReferenceBin.__table__.insert(), [  # m-b watches nothing
            {"model_id": model_id, "kind": kind, "variable": variable, "bin": b, "lower_edge": low,
             "upper_edge": high, "expected_share": 0.5}
            for model_id, kind, variable, edges in (("m-champ", "score", "score", [0.2, 0.5]),
                                                    ("m-champ", "feature", "Amount", [50.0]),
                                                    ("m-a", "feature", "V1", [-1.0, 0.0, 1.0]),
                                                    ("m-a", "feature", "absent", [0.0]))
            for b, (low, high) in enumerate(zip([None, *edges], [*edges, None], strict=True))])
    recorder = RecorderHandler("arbiter.recorder", CODEC, db.hasher)
    challengers = [ChallengerHandler(f"arbiter.shadow.{m}", CODEC, SimpleNamespace(id=m, detector=DETECTOR.name),
                                     SeededScores(seed), Strategy(DETECTOR.name, 1, 0.5, 0.8))
                   for seed, m in enumerate(("m-a", "m-b"))]
    apps = _applications(300, rng)
    operations = []
    for start in range(0, len(apps), 25):
        batch = apps[start:start + 25]
        operations += [("write", recorder, batch)] + [("write", c, batch) for c in challengers]
        operations.append(("write", rng.choice([recorder, *challengers]), rng.sample(batch, 10)))  # redelivery
        operations.append(("label", batch, 1))
        operations.append(("label", rng.sample(batch, 8), 2))  # revised later: some flip
    rng.shuffle(operations)  # labels before or after the scores they move, challengers before the recorder
    for operation in operations:
        if operation[0] == "write":
            _write(db, operation[1], operation[2])
        else:
            _, batch, revision = operation
            labels = [Label(result["application_id"], rng.random() < 0.3, OLD + timedelta(days=40 + revision))
                      for _, result, _ in batch]
            with db.sessions() as session, session.begin():
                record_outcomes(session, labels, source="test")
    counted = assert_matches_a_recount(db)
    assert stored_scores(db) == 600 and all(counted.values()), counted
    with db.sessions() as session:  # labels were stored and counted as such, not only as 'none'
        assert session.scalar(select(func.count()).select_from(tables.Outcome)) > 100
        labelled = session.scalar(select(func.sum(tables.EvidenceBin.applications))
                                  .where(tables.EvidenceBin.label != "none"))
        assert labelled > 100


def test_paired_auc_from_the_aggregates_is_scikit_learns_on_the_same_applications(db: Platform) -> None:
    rng = random.Random(5)
    with db.engine.begin() as conn:
        for model_id, status in (("m-champ", "champion"), ("m-a", "shadow")):
            add_model(conn, model_id, status=status)
    challenger = ChallengerHandler("arbiter.shadow.m-a", CODEC, SimpleNamespace(id="m-a", detector=DETECTOR.name),
                                   SeededScores(9), Strategy(DETECTOR.name, 1, 0.5, 0.8))
    apps = _applications(400, rng)
    _write(db, RecorderHandler("arbiter.recorder", CODEC, db.hasher), apps)
    _write(db, challenger, apps)
    truth = {result["application_id"]: rng.random() < 0.3 for _, result, _ in apps}
    with db.sessions() as session, session.begin():
        record_outcomes(session, [Label(a, y, datetime.now(UTC)) for a, y in truth.items()], source="test")
    paired = [(result["application_id"], float(SeededScores(9).score_records([record])[0]), result["score"])
              for record, result, _ in apps if result["score"] is not None]
    labels = [truth[a] for a, _, _ in paired]
    with db.sessions() as session:
        rows = session.execute(select(tables.EvidencePairBin.side, tables.EvidencePairBin.bin,
                                      tables.EvidencePairBin.label, func.sum(tables.EvidencePairBin.applications))
                               .group_by(tables.EvidencePairBin.side, tables.EvidencePairBin.bin,
                                         tables.EvidencePairBin.label)).all()
    for side, scores in (("challenger", [x for _, x, _ in paired]), ("champion", [y for _, _, y in paired])):
        counts: dict[int, list[int]] = {}
        for s, b, label, n in rows:
            if s == side and label != "none":
                counts.setdefault(b, [0, 0])[0 if label == "fraud" else 1] += n
        binned = auc_from_bins({b: (p, n) for b, (p, n) in counts.items()})
        exact = roc_auc_score(labels, scores)
        assert binned.positives + binned.negatives == len(paired)
        assert abs(binned.auc - exact) <= binned.error_bound <= 1e-3, side


def test_fairness_by_age_band_and_region_by_hand(db: Platform) -> None:
    """Age band and region derived when recorded (no date of birth or zip in clear), counted as the
    recorder stores decisions, equal to a recount, and the disparity ratio worked by hand."""
    from arbiter.store.evidence_repo import count_scores, lock_evidence
    from arbiter.store.records_repo import record_decisions

    detector = get_detector("card-applications")
    frame = prepare_frame(synthesize("card-applications", 90, 4, 0.1), detector)
    groups = [("1995-01-01", "10001", 40, 4, 2, 0), ("1965-01-01", "94105", 50, 10, 5, 2)]
    records, results, labels, i = [], [], [], 0
    for born, zip_code, n, declined, declined_frauds, approved_frauds in groups:
        for k in range(n):
            row = frame.iloc[i].to_dict()
            raw = {f: row[f] for f in detector.field_names if row.get(f) is not None and row.get(f) == row.get(f)}
            record, problems = validate_record(detector, raw | {"date_of_birth": born, "zip": zip_code,
                                                                "submitted_at": "2026-01-10T12:00:00Z"})
            assert not problems, problems
            decision = "decline" if k < declined else "approve"
            fraud = k < declined_frauds or declined <= k < declined + approved_frauds
            records.append(record)
            results.append({"application_id": f"fair-{i}", "score": 0.9 if decision == "decline" else 0.1,
                            "decision": decision, "reasons": [], "model": {"id": "m-champ"}, "strategy_version": 1,
                            "rules_version": 1})
            labels.append(Label(f"fair-{i}", fraud, OLD + timedelta(days=40)))
            i += 1
    with db.engine.begin() as conn:
        add_model(conn, "m-champ", status="champion", detector="card-applications")
    with db.sessions() as session, session.begin():
        lock_evidence(session)
        recorded = record_decisions(session, detector, db.hasher, records, results, OLD)
        arrived = Deltas()  # what the recorder counts besides the scores
        for application in recorded.applications:
            arrived.arrive(application["detector"], application["received_at"])
        count_scores(session, recorded.scored, deltas=arrived)
    with db.sessions() as session, session.begin():
        record_outcomes(session, labels, source="test")
    with db.sessions() as session:
        stored = session.get(tables.Application, ("fair-0", OLD))
        assert stored.segments["age_band"] == "25-34" and stored.segments["region"] == "ny-pa-de"
        assert "1995-01-01" not in str(stored.payload) and "10001" not in str(stored.payload)
    assert_matches_a_recount(db)
    with db.engine.connect() as conn:
        rows = {(r["dimension"], r["segment"]): dict(r) for r in conn.execute(text(
            "SELECT * FROM model_fairness WHERE model_id = 'm-champ'")).mappings()}
    young, old = rows[("age_band", "25-34")], rows[("age_band", "55-64")]
    assert (young["applications"], young["approval_rate"], young["decline_rate"]) == (40, 0.9, 0.1)
    assert (old["applications"], old["approval_rate"], old["frauds"]) == (50, 0.8, 7)
    assert old["fraud_caught_rate"] == pytest.approx(5 / 7) and young["fraud_caught_rate"] == 1.0
    for dimension in ("age_band", "region"):
        ratios = [r["disparity_ratio"] for (d, _), r in rows.items() if d == dimension]
        assert len(ratios) == 2 and ratios == pytest.approx([0.8 / 0.9] * 2)
    assert rows[("region", "pacific")]["approval_rate"] == 0.8
    with db.sessions() as session:
        from arbiter.insights.comparison import disparity
        assert disparity(session, "m-champ", "card-applications") == {
            "age_band": pytest.approx(0.8 / 0.9), "region": pytest.approx(0.8 / 0.9)}
        assert disparity(session, "m-champ", "card-transactions") is None
