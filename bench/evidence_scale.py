"""Benchmark: the evidence at bank scale, from raw rows loaded in SQL to every read strategists make.

    python bench/evidence_scale.py [--applications 1000000 10000000] [--days 90] [--workers] [--out bench/reports]

For each N, a scratch Postgres database is migrated (monthly partitions) and N applications are
loaded directly in SQL over `--days` days ending now: a champion and two challengers in shadow
mode, every application decided by the champion (1% by a rule) and scored by both challengers,
scores drawn like a fraud model's (2% fraud), full card-transaction payloads (30 fields), labels on
every application older than the 30-day maturity window, reference bins for drift. Then:

- `arbiter evidence rebuild` (the CLI, timed), then VACUUM ANALYZE;
- each read, median of 5: the six views, `arbiter report` (the CLI, wall time, and the figures
  in-process), `GET /dashboard/data.json` from `arbiter serve`, and the promotion gates' evidence;
- EXPLAIN of every statement `/dashboard/data.json` runs, flagging any sequential scan of a raw
  table (applications, decisions, shadow_scores or their partitions);
- the sizes: the database, the raw tables, each aggregate table.

`--workers` also runs `bench/shadow_path.py --workers-only` (the workers' throughput with the
aggregates counted as rows are stored against without) and reports its ratio.
Writes bench/reports/evidence_scale.{md,json}. Never asserts a time.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import BIN, Scratch, arbiter, clean_env, free_port, start  # noqa: E402

DETECTOR = "card-transactions"
MODELS = {"m-champion": (2.0, -6.0), "m-good": (2.3, -6.2), "m-weak": (0.8, -5.0)}  # fraud / legit logit means
VIEWS = ("champion_challenger_comparison", "model_daily_performance", "score_distribution", "shadow_coverage",
         "model_drift")
# a sequential scan of a raw table or a partition that holds rows (an empty partition costs 0.00..0.00)
RAW = re.compile(r"Seq Scan on ((?:applications|decisions|shadow_scores)\w*) .*cost=[\d.]+\.\.([\d.]+)")
NORMAL = "(sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))"  # Box-Muller: one standard normal draw


def _decide(score: str) -> str:
    return f"CASE WHEN {score} >= 0.8 THEN 'decline' WHEN {score} >= 0.5 THEN 'review' ELSE 'approve' END"


def load(platform, applications: int, days: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The raw rows, in SQL; seconds per step."""
    from sqlalchemy import text

    from arbiter.store import partitions, tables

    now = datetime.now(UTC)
    first = now - timedelta(days=days)
    steps: dict[str, float] = {}
    with platform.engine.begin() as conn:
        for model_id, status in (("m-champion", "champion"), ("m-good", "shadow"), ("m-weak", "shadow")):
            conn.execute(tables.Model.__table__.insert().values(
                id=model_id, detector=DETECTOR, name=model_id, version=1, flavour="sklearn", recipe="rf",
                runtime="onnx", sha256=model_id.ljust(64, "0"), status=status, location="x",
                metrics={}, certification={"passed": True, "max_abs_diff": 0.0}, manifest={}, registered_by="bench",
                shadow_started_at=first - timedelta(hours=1) if status == "shadow" else None))
            conn.execute(tables.ModelReferenceBin.__table__.insert(), _reference(model_id))
        partitions.create_months(conn, {partitions.add_months(partitions.month_of(first), i) for i in
                                        range((now.year - first.year) * 12 + now.month - first.month + 1)})
    fields = ", ".join(f"'V{i}', round(CAST({NORMAL} AS NUMERIC), 6)" for i in range(1, 29))
    sql = {
        # 4,096 drawn payloads the applications take in turn (drawing 28 normals per row took most of the load)
        "payloads": f"""
            CREATE UNLOGGED TABLE bench_payloads AS
            SELECT k, jsonb_build_object({fields}) AS payload FROM generate_series(0, 4095) k""",
        "truth": f"""
            CREATE UNLOGGED TABLE bench_truth AS
            SELECT g, at, fraud, rule, amount, v14,
                   1 / (1 + exp(-(CASE WHEN fraud THEN 2.0 ELSE -6.0 END + 2.5 * z1))) AS s_champion,
                   1 / (1 + exp(-(CASE WHEN fraud THEN 2.3 ELSE -6.2 END + 2.5 * z2))) AS s_good,
                   1 / (1 + exp(-(CASE WHEN fraud THEN 0.8 ELSE -5.0 END + 2.5 * z3))) AS s_weak
            FROM (SELECT g, CAST(:first AS TIMESTAMPTZ) + random() * interval '{days} days' AS at,
                         random() < 0.02 AS fraud, random() < 0.01 AS rule,
                         round(CAST(exp(3 + 1.2 * {NORMAL}) AS NUMERIC), 2) AS amount,
                         round(CAST({NORMAL} AS NUMERIC), 6) AS v14,
                         {NORMAL} AS z1, {NORMAL} AS z2, {NORMAL} AS z3
                  FROM generate_series(1, :n) g) t""",
        "applications": f"""
            INSERT INTO applications (application_id, detector, received_at, payload, amount, schema_version)
            SELECT 'a' || g, '{DETECTOR}', at,
                   p.payload || jsonb_build_object('Time', g, 'Amount', amount, 'V14', v14), amount, 1
            FROM bench_truth t JOIN bench_payloads p ON p.k = t.g % 4096""",
        "decisions": f"""
            INSERT INTO decisions (application_id, detector, model_id, score, decision, reasons, strategy_version,
                                   rules_version, elapsed_ms, decided_at)
            SELECT 'a' || g, '{DETECTOR}', CASE WHEN rule THEN NULL ELSE 'm-champion' END,
                   CASE WHEN rule THEN NULL ELSE s_champion END,
                   CASE WHEN rule THEN 'decline' ELSE {_decide('s_champion')} END,
                   CAST(CASE WHEN rule THEN '["rule:known-fraud"]' ELSE '[]' END AS JSONB), 1, 1, 0.8, at
            FROM bench_truth""",
        "shadow_scores": " UNION ALL ".join(f"""
            SELECT 'a' || g, '{m}', '{DETECTOR}', s_{m[2:]}, {_decide(f's_{m[2:]}')}, 1, at,
                   at + interval '200 milliseconds', at,
                   CASE WHEN rule THEN NULL ELSE 'm-champion' END, CASE WHEN rule THEN NULL ELSE s_champion END,
                   CASE WHEN rule THEN NULL ELSE {_decide('s_champion')} END
            FROM bench_truth""" for m in ("m-good", "m-weak")),
        "outcomes": """
            INSERT INTO outcomes (application_id, is_fraud, observed_at, recorded_at, revision, source)
            SELECT 'a' || g, fraud, at + interval '20 days', at + interval '25 days', 1, 'bench'
            FROM bench_truth WHERE at < now() - interval '30 days'""",
    }
    sql["shadow_scores"] = ("INSERT INTO shadow_scores (application_id, model_id, detector, score, decision, "
                            "strategy_version, published_at, scored_at, received_at, champion_id, champion_score, "
                            "champion_decision) " + sql["shadow_scores"])
    for step, statement in sql.items():
        started = time.perf_counter()
        with platform.engine.begin() as conn:
            conn.execute(text(statement), {"first": first, "n": applications})
        steps[step] = time.perf_counter() - started
        print(f"  loaded {step} in {steps[step]:.0f} s", file=sys.stderr)
    with platform.engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_truth, bench_payloads"))
    return steps


def _reference(model_id: str) -> list[dict]:
    """Decile bins for the score and two input fields (the shares a training window would give)."""
    import numpy as np
    from scipy.stats import norm

    deciles = norm.ppf(np.linspace(0.1, 0.9, 9))
    legit_mean = MODELS[model_id][1]
    variables = {("score", "score"): 1 / (1 + np.exp(-(legit_mean + 2.5 * deciles))),
                 ("feature", "Amount"): np.exp(3 + 1.2 * deciles), ("feature", "V14"): deciles}
    rows = []
    for (kind, variable), edges in variables.items():
        bounds = [None, *map(float, edges), None]
        rows += [{"model_id": model_id, "kind": kind, "variable": variable, "bin": b, "lower_edge": bounds[b],
                  "upper_edge": bounds[b + 1], "expected_share": 0.1} for b in range(10)]
    return rows


def _with_dirty_days(conn, days: int) -> float:  # type: ignore[no-untyped-def]
    """model_daily_performance's read time with the newest `days` of each model marked changed
    (what a worker's refresh clears every 30 s); the marks are taken off again."""
    from sqlalchemy import text

    conn.execute(text("INSERT INTO evidence_dirty_days (model_id, day, detector, generation) "
                      "SELECT model_id, day, detector, 1 FROM (SELECT model_id, day, detector, row_number() OVER "
                      "(PARTITION BY model_id ORDER BY day DESC) AS r FROM evidence_daily) d WHERE r <= :n"),
                 {"n": days})
    try:
        return timed(lambda: conn.execute(text("SELECT * FROM model_daily_performance")).all())
    finally:
        conn.execute(text("DELETE FROM evidence_dirty_days"))
        conn.commit()


def timed(fn, rounds: int = 5) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def dashboard_statements(platform) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    """Every statement `/dashboard/data.json` runs, with its parameters."""
    from sqlalchemy import event

    from arbiter.insights.dashboard import dashboard_data
    from arbiter.insights.reporting import Window

    seen: list[tuple[str, dict]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    event.listen(platform.engine, "before_cursor_execute", record)
    try:
        dashboard_data(platform, Window())
    finally:
        event.remove(platform.engine, "before_cursor_execute", record)
    return seen


def plans(platform) -> list[dict]:  # type: ignore[no-untyped-def]
    """EXPLAIN of each dashboard statement, and the raw tables it scans sequentially (none expected)."""
    found = []
    raw = platform.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in dashboard_statements(platform):
            cursor.execute("EXPLAIN " + statement, parameters)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            scans = {table for table, cost in RAW.findall(plan) if float(cost) > 0}
            found.append({"statement": " ".join(statement.split())[:160], "plan": plan, "raw_seq_scans": sorted(scans)})
    finally:
        raw.close()
    return found


def sizes(conn) -> dict:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    raw = {t: int(conn.execute(text("SELECT COALESCE(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits "
                                    "WHERE inhparent = to_regclass(:t)"), {"t": t}).scalar())
           for t in ("applications", "decisions", "shadow_scores")}
    aggregates = {name: {"rows": int(rows), "bytes": int(size)} for name, rows, size in conn.execute(text(
        "SELECT relname, n_live_tup, pg_total_relation_size(relid) FROM pg_stat_user_tables "
        "WHERE relname LIKE 'evidence_%' ORDER BY relname")).all()}
    return {"database_bytes": int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar()),
            "raw_bytes": raw, "aggregates": aggregates}


def measure(applications: int, days: int, keep_database: bool = False) -> dict:
    from sqlalchemy import text

    from arbiter.bootstrap import bootstrap
    from arbiter.config import Settings
    from arbiter.governance.promotion import _gates, policy_of
    from arbiter.insights import reporting
    from arbiter.store import tables

    scratch = Scratch()
    env = clean_env(database_url=scratch.database_url, broker_url="memory://bench", evidence="true")
    platform = bootstrap(Settings(database_url=scratch.database_url, broker_url="memory://bench"))
    server = None
    try:
        platform.upgrade_database()
        result: dict = {"applications": applications, "days": days, "load_s": load(platform, applications, days)}
        with platform.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        started = time.perf_counter()
        arbiter(env, "evidence", "rebuild")
        result["rebuild_s"] = time.perf_counter() - started
        print(f"  rebuilt in {result['rebuild_s']:.0f} s", file=sys.stderr)
        with platform.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        reads: dict[str, float] = {}
        with platform.engine.connect() as conn:
            for view in VIEWS:
                reads[view] = timed(lambda view=view: conn.execute(text(f"SELECT * FROM {view}")).all())
            for changed in (1, 30):  # as between two refreshes: today's scores, a month of late labels
                reads[f"model_daily_performance, {changed} days per model changed since the refresh"] = \
                    _with_dirty_days(conn, changed)
            reads["arbiter report (figures)"] = timed(lambda: reporting.comparison_report(platform, reporting.Window()))
            result["sizes"] = sizes(conn)
        reads["arbiter report (CLI, wall)"] = timed(lambda: arbiter(env, "report"))
        with platform.sessions() as session:
            model, champion = session.get(tables.Model, "m-good"), session.get(tables.Model, "m-champion")
            reads["promotion gates"] = timed(
                lambda: _gates(session, model, DETECTOR, champion, policy_of(platform.settings)))
        port = free_port()
        server = start([str(BIN / "arbiter"), "serve", "--port", str(port)], env, port)
        with httpx.Client(timeout=600) as client:
            url = f"http://127.0.0.1:{port}/dashboard/data.json"
            assert client.get(url).status_code == 200
            reads["GET /dashboard/data.json"] = timed(lambda: client.get(url).raise_for_status())
        result["reads_s"] = reads
        result["plans"] = plans(platform)
        return result
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        platform.close()
        if keep_database:
            print(f"  kept the database: {scratch.database_url}", file=sys.stderr)
        else:
            scratch.close()


def worker_ratio(out: Path) -> dict:
    """The shadow-path bench's worker rounds with the aggregates on and off."""
    subprocess.run([sys.executable, str(HERE / "shadow_path.py"), "--workers-only", "--out", str(out)], check=True)
    rounds = json.loads((out / "shadow_path_workers.json").read_text())["worker_rounds"]
    on = [r["applications_per_s"] for r in rounds if r["evidence"]]
    off = [r["applications_per_s"] for r in rounds if not r["evidence"]]
    return {"on": on, "off": off, "ratio": statistics.mean(on) / statistics.mean(off)}


def _number(value: object) -> float:
    return float(value)  # type: ignore[arg-type]  # sizes read back from JSON may be text


def write_report(out: Path, results: list[dict], workers: dict | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "evidence_scale.json").write_text(json.dumps({"results": results, "workers": workers}, indent=1,
                                                        default=str))
    mib = 2 ** 20
    lines = ["# Evidence at bank scale", "",
             f"Written by `python bench/evidence_scale.py` on {date.today().isoformat()}: Postgres on this machine "
             "(2 CPUs, shared), raw rows loaded in SQL (a champion and two challengers, every application scored by "
             "all three, labels older than 30 days), `arbiter evidence rebuild`, VACUUM ANALYZE, then each read "
             "(median of 5). Goal: every read under 1 s.", "",
             "## Reads", "", "| read | " + " | ".join(f"{r['applications']:,}" for r in results) + " |",
             "|---|" + "---:|" * len(results)]
    for read in results[0]["reads_s"]:
        lines.append(f"| {read} | " + " | ".join(f"{r['reads_s'][read] * 1000:,.0f} ms" if read in r["reads_s"]
                                                  else "-" for r in results) + " |")
    lines += ["", "## Loading and rebuilding", "", "| step | " + " | ".join(f"{r['applications']:,}" for r in results)
              + " |", "|---|" + "---:|" * len(results)]
    for step in results[0]["load_s"]:
        lines.append(f"| load {step} (SQL) | " + " | ".join(f"{r['load_s'][step]:,.0f} s" for r in results) + " |")
    lines.append("| `arbiter evidence rebuild` | " + " | ".join(f"{r['rebuild_s']:,.0f} s" for r in results) + " |")
    lines += ["", "## Sizes", "", "| | " + " | ".join(f"{r['applications']:,}" for r in results) + " |",
              "|---|" + "---:|" * len(results),
              "| database | " + " | ".join(f"{_number(r['sizes']['database_bytes']) / mib:,.0f} MiB"
                                          for r in results) + " |"]
    for table in results[0]["sizes"]["raw_bytes"]:
        lines.append(f"| {table} (raw, partitions) | " + " | ".join(
            f"{_number(r['sizes']['raw_bytes'][table]) / mib:,.0f} MiB" for r in results) + " |")
    for table in sorted(set().union(*(r["sizes"]["aggregates"] for r in results))):
        lines.append(f"| {table} | " + " | ".join(
            f"{_number(r['sizes']['aggregates'][table]['rows']):,.0f} rows, "
            f"{_number(r['sizes']['aggregates'][table]['bytes']) / mib:,.1f} MiB"
            if table in r["sizes"]["aggregates"] else "-" for r in results) + " |")
    if workers:
        lines += ["", "## Workers with the aggregates on and off", "",
                  f"`bench/shadow_path.py --workers-only`: applications per second off {workers['off']}, on "
                  f"{workers['on']}: on / off = **{workers['ratio']:.2f}** (goal: at least 0.90)."]
    last = results[-1]
    scans = [p for p in last["plans"] if p["raw_seq_scans"]]
    lines += ["", f"## Plans of the dashboard's statements at {last['applications']:,} applications", "",
              f"{len(last['plans'])} statements; sequential scans of a raw table: "
              + (", ".join(f"{p['statement'][:60]}... ({', '.join(p['raw_seq_scans'])})" for p in scans) or "none"),
              ""]
    for p in last["plans"]:
        lines += [f"### `{p['statement']}`", "", "```", p["plan"], "```", ""]
    (out / "evidence_scale.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, nargs="*", default=[1_000_000],
                        help="sizes to measure (none with --include: only write the report again)")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--workers", action="store_true", help="also measure the workers with aggregates on/off")
    parser.add_argument("--out", type=Path, default=Path("bench/reports"))
    parser.add_argument("--keep-database", action="store_true", help="leave the scratch databases (to explore)")
    parser.add_argument("--include", type=Path, help="an earlier evidence_scale.json to report beside")
    args = parser.parse_args()
    earlier = json.loads(args.include.read_text()) if args.include else {"results": [], "workers": None}
    results = list({r["applications"]: r for r in earlier["results"] if r["applications"] not in args.applications}
                   .values())  # a size measured again replaces its earlier figures
    for n in args.applications:
        print(f"{n:,} applications over {args.days} days ...", file=sys.stderr)
        results.append(measure(n, args.days, args.keep_database))
        print(json.dumps(results[-1]["reads_s"], indent=1), file=sys.stderr)
    workers = worker_ratio(args.out) if args.workers else earlier["workers"]
    write_report(args.out, results, workers)
    print((args.out / "evidence_scale.md").read_text().split("## Plans")[0])


if __name__ == "__main__":
    main()
