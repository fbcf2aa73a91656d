"""Benchmark: threshold simulation latency from the evidence aggregates at bank volume.

    python bench/simulation.py [--applications 1000000 10000000] [--days 60] [--out bench/reports]

For each N, a scratch Postgres database is migrated and a champion's `evidence_bins` are written as
the workers would have counted N applications over `--days` days ending now: scores drawn like a
fraud model's (2% fraud, logit-normal), amounts log-normal, labels on days older than the 30-day
maturity window. (The writers' own counting is measured by `shadow_path.py` and `evidence_scale.py`;
what a simulation reads does not grow with N beyond the bins a day fills.) Then, median of 7 runs
each, in-process through the same service the admin route calls (`governance.workbench`):

- a simulation of the last 30 days (rates, frauds, costs, the cost curve and the cheapest
  thresholds under a review capacity), and of the whole window;
- the same over HTTP: `POST /admin/v1/detectors/{d}/simulate` to `arbiter serve`;
- its parts: the SQL read of the bins, and the optimiser alone.

Writes bench/reports/simulation.{md,json}. Goal: under 100 ms at 10M applications. Never asserts a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import BIN, Scratch, clean_env, free_port, start  # noqa: E402

DETECTOR = "card-transactions"
MODEL = "m-champion"
TOKEN = "bench-simulation-token-0123456789"


def write_bins(platform, applications: int, days: int, seed: int = 7) -> dict:  # type: ignore[no-untyped-def]
    """The champion's fine bins for `applications` spread over `days` days ending today."""
    from sqlalchemy import insert

    from arbiter.domain.evidence import BINS, score_bins
    from arbiter.store import tables

    rng = np.random.default_rng(seed)
    today = datetime.now(UTC).date()
    per_day = applications // days
    rows = []
    for k in range(days):
        day = today - timedelta(days=days - 1 - k)
        fraud = rng.random(per_day) < 0.02
        scores = 1 / (1 + np.exp(-(np.where(fraud, 2.0, -6.0) + 2.5 * rng.standard_normal(per_day))))
        amounts = np.round(np.exp(3 + 1.2 * rng.standard_normal(per_day)), 2)
        mature = (today - day).days >= 30
        labels = np.where(fraud, 0, 1) if mature else np.full(per_day, 2)
        key = score_bins(scores) * 3 + labels
        counts = np.bincount(key, minlength=BINS * 3)
        sums = np.bincount(key, weights=amounts, minlength=BINS * 3)
        for index in np.nonzero(counts)[0]:
            rows.append({"model_id": MODEL, "day": day, "bin": int(index // 3),
                         "label": ("fraud", "legit", "none")[index % 3], "detector": DETECTOR,
                         "applications": int(counts[index]), "amount": float(sums[index]), "without_amount": 0})
    with platform.engine.begin() as conn:
        conn.execute(insert(tables.Model.__table__).values(
            id=MODEL, detector=DETECTOR, name=MODEL, version=1, flavour="sklearn", recipe="rf", runtime="onnx",
            sha256="0" * 64, status="champion", location="x", metrics={}, certification={"passed": True},
            manifest={}, registered_by="bench"))
        for start_at in range(0, len(rows), 10_000):
            conn.execute(insert(tables.EvidenceBin.__table__), rows[start_at:start_at + 10_000])
    return {"bin_rows": len(rows), "applications": per_day * days}


def timed(fn, rounds: int = 7) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e3


def measure(applications: int, days: int) -> dict:
    from sqlalchemy import text

    from arbiter.bootstrap import bootstrap
    from arbiter.config import Settings
    from arbiter.domain.simulation import best_thresholds
    from arbiter.governance.workbench import SimulationRequest, simulate_strategy
    from arbiter.insights.workbench import bin_counts, view_costs

    scratch = Scratch()
    platform = bootstrap(Settings(database_url=scratch.database_url, broker_url="memory://bench",
                                  governance="off"))
    server = None
    try:
        platform.upgrade_database()
        started = time.perf_counter()
        result: dict = {**write_bins(platform, applications, days), "days": days}
        result["write_s"] = time.perf_counter() - started
        with platform.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE evidence_bins"))
        since_30 = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
        since_all = (datetime.now(UTC) - timedelta(days=days)).date().isoformat()
        request = SimulationRequest(review=0.5, decline=0.8, since=since_all, review_capacity=applications / days
                                    * 0.01)
        last_month = request.model_copy(update={"since": since_30})
        reads = {
            "simulate, last 30 days (in-process)": timed(lambda: simulate_strategy(platform, DETECTOR, last_month,
                                                                                   actor="bench")),
            f"simulate, all {days} days (in-process)": timed(lambda: simulate_strategy(platform, DETECTOR, request,
                                                                                       actor="bench")),
        }
        with platform.engine.connect() as conn:
            costs, maturity = view_costs(conn)
            since_day = datetime.fromisoformat(since_all).date()
            reads[f"SQL read of the bins, all {days} days"] = timed(
                lambda: bin_counts(conn, MODEL, since_day, maturity))
            counts = bin_counts(conn, MODEL, since_day, maturity)
        reads["cheapest thresholds under capacity (optimiser alone)"] = timed(
            lambda: best_thresholds(counts, costs, request.review_capacity))
        port = free_port()
        env = clean_env(database_url=scratch.database_url, broker_url="memory://bench", admin_token=TOKEN,
                        governance="off")
        server = start([str(BIN / "arbiter"), "serve", "--workers", "1", "--port", str(port)], env, port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                          headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            body = last_month.model_dump()

            def over_http() -> None:
                r = client.post(f"/admin/v1/detectors/{DETECTOR}/simulate", json=body)
                r.raise_for_status()

            reads["simulate, last 30 days (HTTP, arbiter serve)"] = timed(over_http)
        result["reads_ms"] = reads
        result["figures"] = {k: v for k, v in simulate_strategy(platform, DETECTOR, last_month,
                                                                actor="bench")["simulated"].items()
                             if k in ("applications", "decline_rate", "review_rate", "reviews_per_day")}
        return result
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        platform.close()
        scratch.close()


def write_report(out: Path, results: list[dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "simulation.json").write_text(json.dumps(results, indent=2, default=str))
    lines = ["# Threshold simulation at bank volume", "",
             "A champion's `evidence_bins` as the workers count N applications over the window (scores like a "
             "fraud model's, 2% fraud, labels on days older than 30); each figure the median of 7 runs, in ms, on "
             "the shared 2-CPU machine (Postgres on the same host). Goal: under 100 ms at 10M applications.", "",
             "| applications | days | bin rows | read | ms |", "|---:|---:|---:|---|---:|"]
    for r in results:
        for name, ms in r["reads_ms"].items():
            lines.append(f"| {r['applications']:,} | {r['days']} | {r['bin_rows']:,} | {name} | {ms:.1f} |")
    lines += ["", "The read scales with the days and the bins a day fills (about "
              f"{results[-1]['bin_rows'] // max(results[-1]['days'], 1):,} rows a day at the largest N), not with "
              "the applications; the optimiser tries up to 600 candidate edges (180,000 pairs, vectorised).", ""]
    (out / "simulation.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("bench/reports"))
    args = parser.parse_args()
    results = []
    for n in args.applications:
        print(f"{n:,} applications over {args.days} days ...", file=sys.stderr)
        results.append(measure(n, args.days))
        print(json.dumps(results[-1]["reads_ms"], indent=1), file=sys.stderr)
    write_report(args.out, results)


if __name__ == "__main__":
    main()
