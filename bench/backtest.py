"""Benchmark: backtest throughput, applications scored and stored per second on one core.

    python bench/backtest.py [--applications 200000] [--batch 2000] [--out bench/reports]

A scratch Postgres database; `rf` (100 trees) and `hgb` (200 iterations) trained on 30,000
synthetic card transactions and registered; N stored applications (full 30-field payloads) over 30
days with the champion's decisions on record; then `arbiter backtest` for each model in-process
(`insights.backtest.run_backtest`: read a batch, validate, score with the contribution graph, store,
count in the evidence with the decision on record as the pair, commit). Then the same for `rf` on
card applications, stored as the recorder stores them (PII as keyed hashes, the derivations
recorded), so the backtest reads the derivations in place of the PII. Reports rows/s overall and
the share of the time spent scoring. Writes bench/reports/backtest.{md,json}. Never asserts a time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import Scratch, arbiter, clean_env  # noqa: E402

DETECTOR = "card-transactions"
APPLICATIONS = "card-applications"


def load_card_applications(platform, n: int) -> None:  # type: ignore[no-untyped-def]
    """N card applications over the last 30 days, stored by the recorder's own code (PII hashed, the
    derivations recorded), with a champion decision on record for each."""
    from sqlalchemy import insert

    from arbiter.store import tables
    from arbiter.store.records_repo import store_applications
    from models.dataio import prepare_frame
    from models.detectors import get_detector
    from models.synth import synthesize
    from models.training import json_record
    from models.validation import validate_record

    detector = get_detector(APPLICATIONS)
    frame = prepare_frame(synthesize(APPLICATIONS, min(n, 50_000), 21, 0.02), detector)
    rows = [validate_record(detector, json_record(r))[0] for r in frame[detector.field_names].to_dict("records")]
    now = datetime.now(UTC)
    for start in range(0, n, 5_000):
        span = range(start, min(start + 5_000, n))
        ids = [f"c{i}" for i in span]
        moments = [now - timedelta(days=30) + timedelta(seconds=i * 30 * 86_400 / n) for i in span]
        with platform.sessions() as session, session.begin():
            store_applications(session, detector, platform.hasher, [rows[i % len(rows)] for i in span], ids, moments)
            session.execute(insert(tables.Decision), [
                {"application_id": a, "detector": APPLICATIONS, "model_id": "app-champion", "score": 0.1,
                 "decision": "approve", "reasons": [], "strategy_version": 1, "rules_version": 1, "decided_at": at}
                for a, at in zip(ids, moments, strict=True)])


def load_applications(platform, n: int) -> None:  # type: ignore[no-untyped-def]
    """N applications over the last 30 days, with a champion decision on record for each."""
    from sqlalchemy import insert

    from arbiter.store import partitions, tables
    from models.dataio import prepare_frame
    from models.detectors import get_detector
    from models.synth import synthesize

    detector = get_detector(DETECTOR)
    frame = prepare_frame(synthesize(DETECTOR, min(n, 50_000), 21, 0.02), detector)
    rows = frame[detector.field_names].to_dict("records")
    now = datetime.now(UTC)
    with platform.engine.begin() as conn:
        partitions.create_months(conn, {partitions.month_of(now - timedelta(days=31)), partitions.month_of(now)})
        for start in range(0, n, 10_000):
            apps, decisions = [], []
            for i in range(start, min(start + 10_000, n)):
                at = now - timedelta(days=30) + timedelta(seconds=i * 30 * 86_400 / n)
                row = rows[i % len(rows)] | {"Time": float(i)}
                apps.append({"application_id": f"b{i}", "detector": DETECTOR, "received_at": at, "payload": row,
                             "amount": row["Amount"], "schema_version": 1})
                decisions.append({"application_id": f"b{i}", "detector": DETECTOR, "model_id": "champion",
                                  "score": 0.1, "decision": "approve", "reasons": [], "strategy_version": 1,
                                  "rules_version": 1, "decided_at": at})
            conn.execute(insert(tables.Application), apps)
            conn.execute(insert(tables.Decision), decisions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--out", type=Path, default=Path("bench/reports"))
    args = parser.parse_args()
    from sqlalchemy import insert

    from arbiter.bootstrap import bootstrap
    from arbiter.config import Settings
    from arbiter.insights import backtest as backtests
    from arbiter.store import tables

    work = Path(tempfile.mkdtemp(prefix="arbiter-backtest-bench-"))
    scratch = Scratch()
    env = clean_env(database_url=scratch.database_url, broker_url="memory://", registry_dir=str(work / "registry"),
                    pii_key="bench-key", governance="off")
    settings = Settings(database_url=scratch.database_url, broker_url="memory://", registry_dir=work / "registry",
                        pii_key="bench-key", governance="off")
    platform = bootstrap(settings)
    results = []
    try:
        arbiter(env, "db", "upgrade")
        data = work / "tx.csv"
        arbiter(env, "data", "synth", "--detector", DETECTOR, "--rows", "30000", "--seed", "5", "--out", str(data),
                "--fraud-rate", "0.02")
        apps_data = work / "apps.csv"
        arbiter(env, "data", "synth", "--detector", APPLICATIONS, "--rows", "30000", "--seed", "5", "--out",
                str(apps_data), "--fraud-rate", "0.05")
        with platform.engine.begin() as conn:
            for digit, (model_id, detector) in enumerate((("champion", DETECTOR), ("app-champion", APPLICATIONS))):
                conn.execute(insert(tables.Model.__table__).values(
                    id=model_id, detector=detector, name=model_id, version=1, flavour="sklearn", recipe="rf",
                    runtime="onnx", sha256=str(digit) * 64, status="champion", location="x", metrics={},
                    certification={}, manifest={}, registered_by="bench"))
        models = []
        for detector, recipe, source in ((DETECTOR, "rf", data), (DETECTOR, "hgb", data),
                                         (APPLICATIONS, "rf", apps_data)):
            out = work / f"{detector}-{recipe}"
            arbiter(env, "train", "--detector", detector, "--recipe", recipe, "--data", str(source), "--out", str(out))
            arbiter(env, "register", str(out))
            models.append((detector, recipe, f"{detector}-{recipe}.v1"))
        started = time.perf_counter()
        load_applications(platform, args.applications)
        print(f"loaded {args.applications:,} applications in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        started = time.perf_counter()
        load_card_applications(platform, args.applications)
        print(f"stored {args.applications:,} card applications in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        since = datetime.now(UTC) - timedelta(days=31)
        for detector, recipe, model_id in models:
            scoring = {"s": 0.0}
            runtime_call = backtests.load_registered

            def timed_loader(*a, _load=runtime_call, _acc=scoring):  # type: ignore[no-untyped-def]
                runtime = _load(*a)
                inner = runtime.score_and_explain

                def score(records, top=None):  # type: ignore[no-untyped-def]
                    t = time.perf_counter()
                    out = inner(records, top)
                    _acc["s"] += time.perf_counter() - t
                    return out
                runtime.score_and_explain = score
                return runtime

            backtests.load_registered = timed_loader
            try:
                result = backtests.run_backtest(platform, model_id, since, batch=args.batch)
            finally:
                backtests.load_registered = runtime_call
            results.append({"detector": detector, "recipe": recipe, "model_id": model_id, "applications": result.scored,
                            "seconds": result.seconds, "rows_per_s": result.scored / result.seconds,
                            "scoring_share": scoring["s"] / result.seconds})
            print(json.dumps(results[-1]), file=sys.stderr)
    finally:
        platform.close()
        scratch.close()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "backtest.json").write_text(json.dumps(results, indent=2))
    lines = ["# Backtest throughput", "",
             f"`arbiter backtest` in-process on {args.applications:,} stored card transactions (30 fields) and as many "
             "card applications (13 fields, PII as keyed hashes, the derivations recorded with them), a champion "
             f"decision on record for each, batches of {args.batch:,}, one process (onnxruntime on one thread), "
             "Postgres on the same 2-CPU host: read, validate, score with the contribution graph (score and "
             "reasons), store, count in the evidence, commit.", "",
             "| detector | recipe | applications | seconds | rows/s | share of the time scoring |",
             "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {r['detector']} | {r['recipe']} | {r['applications']:,} | {r['seconds']:.1f} | "
              f"{r['rows_per_s']:,.0f} | {100 * r['scoring_share']:.0f}% |" for r in results]
    (args.out / "backtest.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
