"""Benchmark: the strategists' reads on the evidence aggregates at bank volume.

    python bench/evidence_reads.py [--applications 1000000 10000000] [--days 90] [--out bench/reports]

For each N, a scratch Postgres database is migrated and filled with the aggregates that N
applications over `--days` days produce: a champion and two challengers, every application
scored by all three, labels (2% fraud) on every day older than the 30-day maturity window.
The aggregates are written the way the workers write them (`arbiter.domain.evidence.Deltas`,
`arbiter.store.evidence_repo.apply`), from scores drawn like a fraud model's (legitimate ones
crowded near 0), so the table sizes are those the raw rows would make. Then each read is timed
(median of 5): the comparison view, model_daily_performance, score_distribution, `arbiter
report`'s figures and the promotion gates' evidence, with VACUUM ANALYZE first. Reports the
aggregate table sizes too. The raw tables stay empty: this measures the reads, not the rebuild
(bench/evidence_scale.py, to come, loads the raw rows and runs `arbiter evidence rebuild`).
Writes bench/reports/evidence_reads.{md,json}. Never asserts a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import Scratch  # noqa: E402

MODELS = {"m-champion": (2.0, -6.0), "m-good": (2.3, -6.2), "m-weak": (0.8, -5.0)}  # fraud / legit logit means
READS = {
    "champion_challenger_comparison": "SELECT * FROM champion_challenger_comparison",
    "model_daily_performance": "SELECT * FROM model_daily_performance",
    "score_distribution": "SELECT * FROM score_distribution",
}


def fill(platform, applications: int, days: int, rng: np.random.Generator) -> None:  # type: ignore[no-untyped-def]
    from arbiter.domain.evidence import Deltas, Scored
    from arbiter.store import evidence_repo, tables

    with platform.engine.begin() as conn:
        for model_id, status in (("m-champion", "champion"), ("m-good", "shadow"), ("m-weak", "shadow")):
            conn.execute(tables.Model.__table__.insert().values(
                id=model_id, detector="card-transactions", name=model_id, version=1, flavour="sklearn",
                recipe="rf", runtime="onnx", sha256=model_id.ljust(64, "0"), status=status, location="x",
                metrics={}, certification={"passed": True, "max_abs_diff": 0.0}, manifest={}, registered_by="bench"))
    per_day = applications // days
    first = date.today() - timedelta(days=days - 1)
    for d in range(days):
        day = first + timedelta(days=d)
        labelled = (date.today() - day).days > 30
        fraud = rng.random(per_day) < 0.02
        label = np.where(fraud, "fraud", "legit") if labelled else np.full(per_day, "none")
        amounts = np.round(rng.lognormal(3, 1.2, per_day), 2)
        scores = {m: 1 / (1 + np.exp(-np.where(fraud, rng.normal(fraud_mean, 2.5, per_day),
                                                       rng.normal(legit_mean, 2.5, per_day))))
                  for m, (fraud_mean, legit_mean) in MODELS.items()}
        deltas = Deltas()
        decide = lambda s: np.where(s >= 0.8, "decline", np.where(s >= 0.5, "review", "approve"))  # noqa: E731
        decisions = {m: decide(s) for m, s in scores.items()}
        for i in range(per_day):
            champion = Scored("m-champion", "card-transactions", day, float(scores["m-champion"][i]),
                              str(decisions["m-champion"][i]), float(amounts[i]))
            deltas.score(champion, str(label[i]))
            for m in ("m-good", "m-weak"):
                mine = Scored(m, "card-transactions", day, float(scores[m][i]), str(decisions[m][i]), float(amounts[i]))
                deltas.score(mine, str(label[i]))
                deltas.pair(mine, champion, str(label[i]))
        with platform.sessions() as session, session.begin():
            evidence_repo.apply(session, deltas)
        print(f"  day {d + 1}/{days}", file=sys.stderr, end="\r")
    print(file=sys.stderr)


def timed(fn, rounds: int = 5) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def measure(applications: int, days: int) -> dict:
    from sqlalchemy import text

    from arbiter.bootstrap import bootstrap
    from arbiter.config import Settings
    from arbiter.governance.promotion import _gates, policy_of
    from arbiter.insights import reporting
    from arbiter.store import tables

    scratch = Scratch()
    platform = bootstrap(Settings(database_url=scratch.database_url, broker_url="memory://bench"))
    try:
        platform.upgrade_database()
        started = time.perf_counter()
        fill(platform, applications, days, np.random.default_rng(1))
        fill_seconds = time.perf_counter() - started
        with platform.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        result: dict = {"applications": applications, "days": days, "fill_seconds": fill_seconds, "reads_s": {}}
        with platform.engine.connect() as conn:
            for name, sql in READS.items():
                result["reads_s"][name] = timed(lambda sql=sql: conn.execute(text(sql)).all())
            result["reads_s"]["arbiter report (figures)"] = timed(
                lambda: reporting.report(conn, "postgresql", reporting.Window()))
            sizes = conn.execute(text("""
                SELECT relname, n_live_tup, pg_total_relation_size(relid) FROM pg_stat_user_tables
                WHERE relname LIKE 'evidence_%' ORDER BY relname""")).all()
        result["tables"] = {name: {"rows": rows, "bytes": size} for name, rows, size in sizes}
        with platform.sessions() as session:
            model, champion = session.get(tables.Model, "m-good"), session.get(tables.Model, "m-champion")
            result["reads_s"]["promotion gates"] = timed(
                lambda: _gates(session, model, "card-transactions", champion, policy_of(platform.settings)))
        return result
    finally:
        platform.close()
        scratch.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--out", type=Path, default=Path("bench/reports"))
    args = parser.parse_args()
    results = []
    for n in args.applications:
        print(f"{n:,} applications over {args.days} days ...", file=sys.stderr)
        results.append(measure(n, args.days))
        print(json.dumps(results[-1], indent=1), file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "evidence_reads.json").write_text(json.dumps(results, indent=1))
    lines = ["# Strategists' reads on the evidence aggregates", "",
             f"Postgres on this machine (2 CPUs), aggregates of a champion and two challengers over {args.days} days, "
             "every application scored by all three, labels on the days older than 30; median of 5 runs.", "",
             "| applications | " + " | ".join(results[0]["reads_s"]) + " |",
             "|---:|" + "---:|" * len(results[0]["reads_s"])]
    lines += [f"| {r['applications']:,} | " + " | ".join(f"{v * 1000:.0f} ms" for v in r["reads_s"].values()) + " |"
              for r in results]
    lines += ["", "| applications | table | rows | size |", "|---:|---|---:|---:|"]
    lines += [f"| {r['applications']:,} | {t} | {v['rows']:,} | {v['bytes'] / 2**20:.1f} MiB |"
              for r in results for t, v in r["tables"].items()]
    (args.out / "evidence_reads.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
