"""The strategists' views on the real Postgres and on SQLite: AUC equal to scikit-learn's (ties
included), precision / recall / cost against a hand-computed case, label maturity."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sklearn.metrics import roc_auc_score
from sqlalchemy import insert, text, update

from arbiter.bootstrap import Platform
from arbiter.insights.evidence import rebuild
from arbiter.store import tables
from arbiter.store.dialect_sql import expand
from tests.integration.strategist_data import OLD, add_model, add_scores

pytestmark = pytest.mark.integration


def _performance(platform: Platform) -> dict[tuple[str, str], dict]:
    rebuild(platform)  # rows written by hand: the view reads the aggregates recounted from them
    with platform.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM model_daily_performance")).mappings().all()
    return {(r["model_id"], str(r["day"])): dict(r) for r in rows}


def test_daily_auc_equals_scikit_learn_with_ties(db: Platform) -> None:
    rng = random.Random(4)
    expected = {}
    with db.engine.begin() as conn:
        for model_id in ("m-a", "m-b"):
            add_model(conn, model_id)
            for day in (0, 1):
                at = OLD + timedelta(days=day)
                labels = [rng.random() < 0.2 for _ in range(300)]
                # scores rounded to one decimal: many ties, across classes too
                scores = [round(min(1.0, max(0.0, rng.gauss(0.6 if y else 0.4, 0.2))), 1) for y in labels]
                add_scores(conn, model_id, [(f"{model_id}-{day}-{i}", at, s, "approve", y, None)
                                         for i, (s, y) in enumerate(zip(scores, labels, strict=True))])
                expected[(model_id, str(at.date()))] = roc_auc_score(labels, scores)
    got = _performance(db)
    for key, auc in expected.items():
        assert got[key]["roc_auc"] == pytest.approx(auc, abs=1e-9), key
        assert got[key]["labelled"] == got[key]["volume"] == 300 and got[key]["immature"] == 0


def test_precision_recall_f1_and_cost_at_the_strategy_thresholds(db: Platform) -> None:
    rows = [  # id, score, decision, fraud, amount
        ("h1", 0.95, "decline", True, 300.0),   # true positive
        ("h2", 0.90, "decline", False, 80.0),   # false decline: 25
        ("h3", 0.60, "review", True, 120.0),    # missed fraud: its amount
        ("h4", 0.20, "approve", True, None),    # missed fraud without amount: 1000
        ("h5", 0.10, "approve", False, 50.0),   # true negative
        ("h6", 0.85, "decline", True, 10.0),    # true positive
    ]
    with db.engine.begin() as conn:
        add_model(conn, "m-h")
        add_scores(conn, "m-h", [(a, OLD, s, d, y, m) for a, s, d, y, m in rows])
    row = _performance(db)[("m-h", str(OLD.date()))]
    tp, fp, fn = 2, 1, 2
    assert row["precision"] == pytest.approx(tp / (tp + fp))
    assert row["recall"] == pytest.approx(tp / (tp + fn))
    assert row["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert row["expected_cost"] == pytest.approx(25 + 120 + 1000)
    assert row["decline_rate"] == pytest.approx(3 / 6) and row["frauds"] == 4


def test_labels_younger_than_the_maturity_window_are_left_out_and_counted(db: Platform) -> None:
    recent = datetime.now(UTC) - timedelta(days=2)
    with db.engine.begin() as conn:
        add_model(conn, "m-m")
        add_scores(conn, "m-m", [(f"r{i}", recent, i / 10, "approve", i % 2 == 0, None) for i in range(10)])
    row = _performance(db)[("m-m", str(recent.date()))]
    assert (row["volume"], row["labelled"], row["immature"], row["roc_auc"]) == (10, 0, 10, None)
    with db.engine.begin() as conn:
        conn.execute(update(tables.ViewSettings).values(label_maturity_days=1))
    row = _performance(db)[("m-m", str(recent.date()))]
    assert (row["labelled"], row["immature"]) == (10, 0) and row["roc_auc"] is not None


def test_champion_challenger_comparison_pairs_the_same_applications(db: Platform) -> None:
    import numpy as np

    rng = random.Random(9)
    labels = [rng.random() < 0.25 for _ in range(400)]
    champion = [round(min(1.0, max(0.0, rng.gauss(0.62 if y else 0.4, 0.2))), 2) for y in labels]
    challenger = [round(min(1.0, max(0.0, rng.gauss(0.7 if y else 0.4, 0.2))), 1) for y in labels]

    def decide(score: float) -> str:
        return "decline" if score >= 0.8 else "review" if score >= 0.5 else "approve"
    with db.engine.begin() as conn:
        add_model(conn, "m-champ")
        add_model(conn, "m-chal")
        add_scores(conn, "m-chal", [(f"p{i}", OLD, s, decide(s), y, None)
                                 for i, (s, y) in enumerate(zip(challenger, labels, strict=True))])
        for i, s in enumerate(champion):
            conn.execute(insert(tables.Decision).values(
                application_id=f"p{i}", detector="card-transactions", model_id="m-champ", score=s,
                decision=decide(s), reasons=[], strategy_version=1, rules_version=1, decided_at=OLD))
    rebuild(db)  # rows written by hand: the comparison reads the aggregates recounted from them
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM champion_challenger_comparison")).mappings().one()
    agree = np.mean([decide(a) == decide(b) for a, b in zip(challenger, champion, strict=True)])
    would_decline = sum(decide(a) == "decline" != decide(b) for a, b in zip(challenger, champion, strict=True))
    assert (row["challenger_id"], row["champion_id"], row["paired"], row["labelled"]) == ("m-chal", "m-champ", 400, 400)
    assert row["agreement_rate"] == pytest.approx(agree) and row["challenger_would_decline"] == would_decline
    assert row["score_correlation"] == pytest.approx(np.corrcoef(challenger, champion)[0, 1], abs=1e-9)
    assert row["challenger_auc"] == pytest.approx(roc_auc_score(labels, challenger), abs=1e-9)
    assert row["champion_auc"] == pytest.approx(roc_auc_score(labels, champion), abs=1e-9)
    assert row["auc_delta"] == pytest.approx(roc_auc_score(labels, challenger) - roc_auc_score(labels, champion),
                                             abs=1e-9)


def test_promotion_evidence_has_the_views_aucs_and_delongs_interval(db: Platform) -> None:
    """The gate's evidence, from the same aggregates: the comparison view's AUCs exactly, and the
    DeLong interval of a direct implementation on the raw scores (within the within-cell covariance)."""
    import numpy as np

    from arbiter.insights.comparison import promotion_evidence
    from tests.integration.strategist_data import seed_champion_and_challengers
    from tests.unit.test_delong import reference_delong

    with db.engine.begin() as conn:
        seeded = seed_champion_and_challengers(conn)
    rebuild(db)
    with db.engine.connect() as conn:
        view = {r["challenger_id"]: r for r in conn.execute(text(
            "SELECT * FROM champion_challenger_comparison")).mappings()}
    labels = np.array(seeded.labels, dtype=int)
    for challenger, scores in seeded.challengers.items():
        with db.sessions() as session:
            evidence = promotion_evidence(session, challenger, "m-champ")
        assert evidence.auc is not None and evidence.complete
        assert (evidence.labelled, evidence.frauds) == (len(labels), int(labels.sum()))
        assert evidence.auc.challenger_auc == pytest.approx(view[challenger]["challenger_auc"], abs=1e-12)
        assert evidence.auc.champion_auc == pytest.approx(view[challenger]["champion_auc"], abs=1e-12)
        delta, std_error = reference_delong(np.array(scores), np.array(seeded.champion), labels)
        assert evidence.auc.delta == pytest.approx(delta, abs=1e-9)  # scores to 0.01: a bin each, exact
        assert evidence.auc.std_error == pytest.approx(std_error, rel=0.01)
        decline = np.mean([s >= 0.8 for s in scores])
        assert evidence.rates.challenger_decline == pytest.approx(decline)
        assert evidence.rates.paired == len(labels)


def test_swap_sets_and_recall_at_the_champions_decline_rate_by_hand(db: Platform) -> None:
    from arbiter.insights.reporting import Window, report

    cases = [  # id, champion score, challenger score, label, amount
        ("a1", 0.1, 0.9, True, 100.0), ("a2", 0.2, 0.85, False, 50.0), ("a3", 0.3, 0.95, False, 20.0),
        ("a4", 0.9, 0.1, True, 500.0), ("a5", 0.85, 0.2, False, 30.0), ("a6", 0.1, 0.1, False, 10.0),
        ("a7", 0.1, 0.9, None, 70.0), ("a8", 0.6, 0.9, False, 5.0)]

    def decide(score: float) -> str:
        return "decline" if score >= 0.8 else "review" if score >= 0.5 else "approve"
    with db.engine.begin() as conn:
        add_model(conn, "m-champ", status="champion")
        add_model(conn, "m-chal")
        add_scores(conn, "m-chal", [(a, OLD, x, decide(x), y, amount) for a, _, x, y, amount in cases])
        for a, s, *_ in cases:
            conn.execute(insert(tables.Decision).values(
                application_id=a, detector="card-transactions", model_id="m-champ", score=s, decision=decide(s),
                reasons=[], strategy_version=1, rules_version=1, decided_at=OLD))
    rebuild(db)
    with db.engine.connect() as conn:
        rows = {r["swap"]: dict(r) for r in conn.execute(text("SELECT * FROM swap_sets")).mappings()}
        entry = report(conn, db.engine.dialect.name, Window())[0]
    assert {k: rows["challenger_declines"][k] for k in ("applications", "labelled", "frauds", "fraud_amount",
                                                        "false_declines", "unlabelled", "cost_difference")} == {
        "applications": 4, "labelled": 3, "frauds": 1, "fraud_amount": 100.0, "false_declines": 2, "unlabelled": 1,
        "cost_difference": 2 * 25.0 - 1000.0}  # two false declines more, one fraud caught
    assert {k: rows["challenger_approves"][k] for k in ("applications", "labelled", "frauds", "fraud_amount",
                                                        "false_declines", "cost_difference")} == {
        "applications": 2, "labelled": 2, "frauds": 1, "fraud_amount": 500.0, "false_declines": 1,
        "cost_difference": 1000.0 - 25.0}  # one fraud let through, one false decline spared
    challenger = entry.challengers[0]
    assert [s["swap"] for s in challenger["swap_sets"]] == ["challenger_approves", "challenger_declines"]
    # the champion declines 2 of the 7 labelled; the challenger's top 2: a3 (legit), then half of the
    # 0.9 bin that holds a1 (fraud) and a8 (legit): half a fraud of two
    assert challenger["champion_decline_rate"] == pytest.approx(2 / 7)
    assert challenger["challenger_recall"] == pytest.approx(0.25)
    assert challenger["champion_recall"] == pytest.approx(0.5)


def test_score_distribution_bins_every_score_once(db: Platform) -> None:
    import numpy as np

    scores = [0.0, 0.01, 0.049, 0.05, 0.5, 0.74, 0.999, 1.0, 1.0, 0.33]
    with db.engine.begin() as conn:
        add_model(conn, "m-d")
        add_scores(conn, "m-d", [(f"d{i}", OLD, s, "approve", i % 3 == 0, None) for i, s in enumerate(scores)])
    rebuild(db)
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT bin, applications, share, frauds, non_frauds FROM score_distribution "
                                 "WHERE model_id = 'm-d' ORDER BY bin")).all()
    counts, _ = np.histogram(scores, bins=20, range=(0.0, 1.0))  # numpy's last bin includes 1.0 too
    assert {r.bin: r.applications for r in rows} == {b: int(c) for b, c in enumerate(counts) if c}
    assert sum(r.share for r in rows) == pytest.approx(1.0)
    assert sum(r.frauds for r in rows) == 4 and sum(r.non_frauds for r in rows) == 6


def test_model_drift_psi_equals_numpy_on_scores_and_fields(db: Platform) -> None:
    import numpy as np

    from models.drift import bin_shares, decile_bins, psi, reference_rows

    rng = np.random.default_rng(5)
    reference = {"score": decile_bins(rng.beta(1, 6, 5000)),
                 "features": [{"name": "V14", **decile_bins(rng.normal(0, 1, 5000))}]}
    day0 = [(rng.beta(1, 6), rng.normal(0, 1)) for _ in range(400)]           # as in the reference
    day1 = [(rng.beta(3, 3), rng.normal(1.5, 0.5)) for _ in range(300)]       # shifted; some bins empty
    day1 += [(0.0, -99.0), (1.0, 99.0)]                                       # beyond both outer edges
    with db.engine.begin() as conn:
        add_model(conn, "m-drift")
        conn.execute(insert(tables.ModelReferenceBin),
                     [{"model_id": "m-drift", **r} for r in reference_rows(reference)])
        for day, rows in ((0, day0), (1, day1)):
            at = OLD + timedelta(days=day)
            add_scores(conn, "m-drift", [(f"z{day}-{i}", at, float(s), "approve", None, None)
                                      for i, (s, _) in enumerate(rows)], payloads=[{"V14": float(v)} for _, v in rows])
        add_scores(conn, "m-drift", [("z-missing", OLD, 0.1, "approve", None, None)], payloads=[{"V14": None}])
    day0 = [*day0, (0.1, None)]  # scored, but without the field
    rebuild(db)
    with db.engine.connect() as conn:
        got = {(str(r.day), r.variable): r for r in conn.execute(text(
            "SELECT * FROM model_drift WHERE model_id = 'm-drift'")).all()}
    for day, rows in ((0, day0), (1, day1)):
        key = str((OLD + timedelta(days=day)).date())
        for column, (name, ref) in enumerate((("score", reference["score"]), ("V14", reference["features"][0]))):
            values = np.array([r[column] for r in rows if r[column] is not None])
            expected = psi(ref["bin_share"], bin_shares(values, ref["bin_edges"]))
            row = got[(key, name)]
            assert row.psi == pytest.approx(expected, abs=1e-9), (key, name)
            assert row.applications == len(values) and row.bins == len(ref["bin_share"])
    day0_key, day1_key = str(OLD.date()), str((OLD + timedelta(days=1)).date())
    assert got[(day0_key, "V14")].missing == 1 and got[(day0_key, "score")].applications == len(day0)
    assert got[(day0_key, "V14")].status == "stable" and got[(day1_key, "V14")].status == "shift"
    assert got[(day1_key, "score")].kind == "score" and got[(day1_key, "V14")].kind == "feature"


def _raw_view(platform: Platform, revision: str, name: str) -> list[dict]:
    """What view `name` showed at `revision`, when it read the raw tables (its frozen copy)."""
    from migrations.frozen_views import frozen_text

    sql = expand(frozen_text(revision, name), platform.engine.dialect.name)
    with platform.engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(f"SELECT * FROM ({sql}) AS raw")).mappings()]


def _view(platform: Platform, name: str) -> list[dict]:
    with platform.engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(f"SELECT * FROM {name}")).mappings()]


def _same(rows: list[dict], expected: list[dict], key: tuple[str, ...]) -> None:
    by_key = {tuple(str(r[k]) for k in key): r for r in expected}
    assert {tuple(str(r[k]) for k in key) for r in rows} == set(by_key)
    for row in rows:
        want = by_key[tuple(str(row[k]) for k in key)]
        for column, value in want.items():
            if isinstance(value, float):
                assert row[column] == pytest.approx(value, rel=1e-9, abs=1e-9), column
            else:
                assert str(row[column]) == str(value), column


def test_shadow_coverage_from_hours_equals_the_raw_count_with_windows_cut_mid_hour(db: Platform) -> None:
    rng = random.Random(5)
    start = OLD + timedelta(hours=3, minutes=17, seconds=11)
    with db.engine.begin() as conn:
        for model_id in ("m-open", "m-closed", "m-short"):
            add_model(conn, model_id)
        windows = {"m-open": (start, None), "m-closed": (start, start + timedelta(hours=5, minutes=3)),
                   "m-short": (start + timedelta(minutes=5), start + timedelta(minutes=40))}
        for model_id, (began, ended) in windows.items():
            conn.execute(update(tables.Model).where(tables.Model.id == model_id)
                         .values(shadow_started_at=began, shadow_stopped_at=ended))
        moments = sorted(start + timedelta(seconds=rng.randrange(-4 * 3600, 9 * 3600)) for _ in range(600))
        for i, at in enumerate(moments):
            conn.execute(insert(tables.Application).values(application_id=f"cov-{i}", detector="card-transactions",
                                                            received_at=at, payload={}, amount=None))
            for model_id in windows:
                if rng.random() < 0.8:  # some not scored yet; and a few outside the window (an earlier one)
                    conn.execute(insert(tables.ShadowScore).values(
                        application_id=f"cov-{i}", model_id=model_id, detector="card-transactions",
                        score=rng.random(), decision="approve", strategy_version=1, published_at=at,
                        scored_at=at + timedelta(seconds=rng.randrange(1, 90)), received_at=at))
        conn.execute(insert(tables.DeadLetter).values(queue="q", message_key="cov-3", model_id="m-open",
                                                      detector="card-transactions", application_id="cov-3",
                                                      reason="poison", attempts=5))
    rebuild(db)
    rows = _view(db, "shadow_coverage")
    assert {r["model_id"] for r in rows} == set(windows) and all(r["published"] > 0 for r in rows)
    _same(rows, _raw_view(db, "0002", "shadow_coverage"), ("model_id",))


def test_model_drift_from_aggregates_equals_the_raw_view(db: Platform) -> None:
    rng = random.Random(8)
    with db.engine.begin() as conn:
        add_model(conn, "m-d")
        conn.execute(insert(tables.ModelReferenceBin), [
            {"model_id": "m-d", "kind": kind, "variable": variable, "bin": b, "lower_edge": low, "upper_edge": high,
             "expected_share": share}
            for kind, variable, edges in (("score", "score", [0.1, 0.3, 0.7]), ("feature", "V2", [-0.5, 0.5]))
            for b, (low, high, share) in enumerate(zip([None, *edges], [*edges, None], [0.4, 0.3, 0.2, 0.1],
                                                       strict=False))])
        add_scores(conn, "m-d", [(f"dr-{i}", OLD + timedelta(days=i % 3, seconds=i), rng.random(), "approve", None,
                                  None) for i in range(300)],
                   payloads=[{"V2": rng.gauss(0, 1)} if i % 7 else {} for i in range(300)])
    rebuild(db)
    rows = _view(db, "model_drift")
    assert len(rows) == 6
    _same(rows, _raw_view(db, "0005", "model_drift"), ("model_id", "day", "variable"))


def test_daily_figures_kept_between_refreshes_equal_those_computed_from_the_bins(db: Platform) -> None:
    from arbiter.insights.evidence import refresh
    from arbiter.insights.outcomes import Label, record_outcomes
    from tests.integration.strategist_data import seed_champion_and_challengers

    with db.engine.begin() as conn:
        seed_champion_and_challengers(conn, n=300)
    rebuild(db)  # ends with a refresh: every day kept, none dirty
    key = ("model_id", "day")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM evidence_dirty_days")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM evidence_daily")).scalar() == 9
    _same(_view(db, "model_daily_performance"), _raw_view(db, "0008", "model_daily_performance"), key)
    with db.sessions() as session, session.begin():  # labels flip on one day: it turns dirty
        record_outcomes(session, [Label(f"p{i}", i % 2 == 0, OLD + timedelta(days=40)) for i in range(0, 300, 3)],
                        source="test")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM evidence_dirty_days")).scalar() == 3
    _same(_view(db, "model_daily_performance"), _raw_view(db, "0008", "model_daily_performance"), key)
    assert refresh(db) == 3 and refresh(db) == 0
    _same(_view(db, "model_daily_performance"), _raw_view(db, "0008", "model_daily_performance"), key)


def test_top_reasons_and_disagreements_by_hand(db: Platform) -> None:
    from arbiter.insights import reporting
    from tests.integration.strategist_data import decide, seed_champion_and_challengers

    with db.engine.begin() as conn:
        seeded = seed_champion_and_challengers(conn)
    rebuild(db)  # rows written by hand: the aggregates are recounted from their explanations
    with db.engine.connect() as conn:
        reasons = {r["model_id"]: r for r in reporting.top_reasons(conn, reporting.Window())}
        disagree = reporting.disagreements(conn, reporting.Window())
        by_day = {str(r["day"]): r for r in conn.execute(text(
            "SELECT day, SUM(applications) AS applications, SUM(named_first) AS named_first, MIN(decisions) AS d "
            "FROM model_reasons WHERE model_id = 'm-champ' AND feature = 'V14' AND decision = 'decline' "
            "GROUP BY day")).mappings()}
    adverse = [decide(s) != "approve" for s in seeded.champion]
    champion = reasons["m-champ"]
    assert champion["decisions"] == sum(adverse)
    assert [(r["feature"], r["named"], r["named_first"], r["share"]) for r in champion["overall"]] == [
        ("V14", sum(adverse), sum(adverse), 1.0), ("V4", sum(adverse), 0, 1.0)]
    assert champion["overall"][0]["label"] == "anonymised transaction component V14"
    mean = sum(s / 2 for s, a in zip(seeded.champion, adverse, strict=True) if a) / sum(adverse)
    assert champion["overall"][0]["mean_contribution"] == pytest.approx(mean, abs=1e-3)  # stored rounded to 1e-3
    declines = {}
    for s, day in zip(seeded.champion, seeded.days, strict=True):
        if decide(s) == "decline":
            declines[str(day.date())] = declines.get(str(day.date()), 0) + 1
    assert {d: (int(r["applications"]), int(r["d"])) for d, r in by_day.items()} == {
        d: (n, n) for d, n in declines.items()}
    assert "m-good" not in reasons  # its scores carry no explanation

    weak = seeded.challengers["m-weak"]
    expected: dict[tuple[str, str], int] = {}
    for x, y in zip(weak, seeded.champion, strict=True):
        if decide(x) != decide(y):
            expected[(decide(x), decide(y))] = expected.get((decide(x), decide(y)), 0) + 1
    rows = {(r["challenger_decision"], r["champion_decision"]): r for r in disagree if r["challenger_id"] == "m-weak"}
    assert {k: r["applications"] for k, r in rows.items()} == expected
    for key, r in rows.items():
        assert [(x["feature"], x["named"]) for x in r["challenger_reasons"]] == [("Amount", expected[key]),
                                                                                ("V4", expected[key])]
        assert [(x["feature"], x["named"]) for x in r["champion_reasons"]] == [("V14", expected[key]),
                                                                              ("V4", expected[key])]
    good = [r for r in disagree if r["challenger_id"] == "m-good"]
    assert good and all(not r["challenger_reasons"] and r["champion_reasons"] for r in good)
