"""Benchmark: the shadow path over the real RabbitMQ and Postgres.

    python bench/shadow_path.py [--rows 20000] [--duration 15] [--rounds 2] [--out bench/reports]

1. Worker throughput: `--rows` card-applications are scored by the champion (in-process) and
   published to RabbitMQ with no worker running; then one `arbiter worker` process (three
   challengers and the recorder) drains the backlog. Reports applications per second (each is
   four messages: the recorder's and three challengers'), four times: with the evidence
   aggregates counted as rows are stored and without (`ARBITER_EVIDENCE=false`), off-on-on-off,
   timed from the first row stored to the last.
2. Gateway latency with fan-out off and on (`ARBITER_PUBLISH=false|true`), `arbiter serve
   --workers 1` under wrk (8 connections), interleaved `--rounds` times, the worker running.
3. End-to-end lag (published_at -> scored_at of each challenger row; scored_at is stamped when
   the batch is scored, just before its commit), p50/p99: at a steady `--rate` (applications
   per second, below saturation), and under the saturating wrk load of step 2.
Writes bench/reports/shadow_path.{md,json}. Needs wrk, RabbitMQ and Postgres. Never asserts a time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import BIN, Scratch, arbiter, clean_env, free_port, start, wrk  # noqa: E402

DETECTOR = "card-applications"
CHAMPION, CHALLENGERS = "rf", ("logreg", "hgb", "isolation-forest")


def prepare(work: Path, env: dict[str, str]) -> list[dict]:
    """Train and register champion and challengers, govern them; held-out applications to send."""
    data = work / "apps.csv"
    arbiter(env, "db", "upgrade")
    arbiter(env, "data", "synth", "--detector", DETECTOR, "--rows", "40000", "--seed", "9", "--out", str(data))
    for recipe in (CHAMPION, *CHALLENGERS):
        arbiter(env, "train", "--detector", DETECTOR, "--recipe", recipe, "--data", str(data),
                "--out", str(work / recipe))
        arbiter(env, "register", str(work / recipe))
    arbiter(env, "promote", f"{DETECTOR}-{CHAMPION}.v1", "--reason", "benchmark", "--force")
    for recipe in CHALLENGERS:
        arbiter(env, "shadow", f"{DETECTOR}-{recipe}.v1")
    from models.synth import synthesize

    frame = synthesize(DETECTOR, 5000, seed=99).drop(columns=["is_fraud", "application_id"])  # unseen, typed
    return [{k: v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))}
            for row in frame.to_dict(orient="records")]


def settings_from(env: dict[str, str]):  # type: ignore[no-untyped-def]
    from arbiter.config import Settings

    return Settings(**{k[len("ARBITER_"):].lower(): v for k, v in env.items() if k.startswith("ARBITER_")})


def publish_backlog(env: dict[str, str], records: list[dict], rows: int, prefix: str = "backlog-") -> float:
    """Score `rows` applications with the champion and publish them; seconds it took."""
    from arbiter.bootstrap import bootstrap
    from arbiter.serving.fanout import Fanout
    from arbiter.serving.scoring import Application, Scorer
    from arbiter.serving.state import ServingState

    platform = bootstrap(settings_from(env))
    serving = ServingState(platform.sessions, platform.settings.registry_dir, platform.identity_key)
    serving.refresh()
    fanout = Fanout(platform, run_workers=False)
    fanout.start()
    scorer = Scorer(serving, platform.hasher, sink=fanout.sink)
    started = time.perf_counter()
    for offset in range(0, rows, 500):
        batch = [Application(f"{prefix}{offset + i}", records[(offset + i) % len(records)])
                 for i in range(min(500, rows - offset))]
        scorer.score(DETECTOR, batch)
    fanout.flush(600)
    seconds = time.perf_counter() - started
    fanout.close()
    platform.close()
    return seconds


def counts(env: dict[str, str]) -> tuple[int, dict[str, int]]:
    import sqlalchemy as sa

    engine = sa.create_engine(env["ARBITER_DATABASE_URL"])
    with engine.connect() as conn:
        decisions = conn.execute(sa.text("SELECT count(*) FROM decisions")).scalar_one()
        shadow = dict(conn.execute(sa.text("SELECT model_id, count(*) FROM shadow_scores GROUP BY 1")).all())
    engine.dispose()
    return decisions, shadow


def wait_for(env: dict[str, str], total: int, timeout: float = 1800, *, after: int | None = None) -> float:
    """Seconds until `total` decisions and as many scores per challenger are stored; with `after`,
    timed from when the decisions first exceed `after` (the worker's start-up left out)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        decisions, shadow = counts(env)
        if after is not None and decisions > after:
            started, after = time.perf_counter(), None
        if decisions >= total and len(shadow) == len(CHALLENGERS) and min(shadow.values()) >= total:
            return time.perf_counter() - started
        time.sleep(0.1)
    raise RuntimeError(f"the worker did not finish: {counts(env)}")


def worker_rounds(env: dict[str, str], records: list[dict], rows: int) -> list[dict]:
    """Drain a fresh backlog four times, evidence off, on, on, off; applications per second each time."""
    results = []
    for round_, evidence in enumerate((False, True, True, False)):
        before, _ = counts(env)
        publish_backlog(env, records, rows, prefix=f"round{round_}-")
        worker = subprocess.Popen([str(BIN / "arbiter"), "worker"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env=env | {"ARBITER_EVIDENCE": str(evidence).lower()})
        try:
            seconds = wait_for(env, before + rows, after=before)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        results.append({"evidence": evidence, "seconds": seconds, "applications_per_s": rows / seconds})
        print(f"worker, evidence {'on' if evidence else 'off'}: {results[-1]}", file=sys.stderr)
    return results


def lag(env: dict[str, str], since: datetime) -> dict[str, float]:
    import sqlalchemy as sa

    engine = sa.create_engine(env["ARBITER_DATABASE_URL"])
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM scored_at - published_at)), "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM scored_at - published_at)), count(*) "
            "FROM shadow_scores WHERE published_at >= :since"), {"since": since}).one()
    engine.dispose()
    return {"p50_ms": float(row[0]) * 1e3, "p99_ms": float(row[1]) * 1e3, "rows": int(row[2])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rate", type=int, default=400, help="steady load for the lag measurement (req/s)")
    parser.add_argument("--out", type=Path, default=Path("bench/reports"))
    parser.add_argument("--workers-only", action="store_true",
                        help="only the worker throughput rounds (evidence on and off); prints them, writes no report")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="arbiter-shadow-bench-"))
    scratch = Scratch()
    env = clean_env(database_url=scratch.database_url, broker_url=scratch.broker_url, pii_key="bench-key",
                    registry_dir=str(work / "registry"), spool_dir=str(work / "spool"),
                    message_key="bench-message-key")
    report: dict = {"rows": args.rows, "cpus": os.cpu_count()}
    worker = None
    try:
        print("preparing: synthesize, train champion + 3 challengers, register, govern ...", file=sys.stderr)
        records = prepare(work, env)
        report["worker_rounds"] = worker_rounds(env, records, args.rows)
        if args.workers_only:  # the full report stays as it was; these rounds go beside it
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "shadow_path_workers.json").write_text(json.dumps(report, indent=1, default=str))
            return
        on = [r["applications_per_s"] for r in report["worker_rounds"] if r["evidence"]]
        off = [r["applications_per_s"] for r in report["worker_rounds"] if not r["evidence"]]
        report["worker"] = {"applications_per_s": statistics.mean(on), "without_evidence": statistics.mean(off),
                            "messages_per_s": statistics.mean(on) * (1 + len(CHALLENGERS)),
                            "evidence_ratio": statistics.mean(on) / statistics.mean(off)}
        worker = subprocess.Popen([str(BIN / "arbiter"), "worker"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        body = work / "body.json"
        body.write_text(json.dumps({"data": records[1]}))
        report["gateway"], report["lag"] = gateway_runs(env, body, args)
        report["steady"] = steady_lag(env, records, args)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=60)
        scratch.close()
    if not args.workers_only:
        write_report(args, report)


def gateway_runs(env: dict[str, str], body: Path, args: argparse.Namespace) -> tuple[dict, list[dict]]:
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    lags = []
    for round_ in range(args.rounds):
        for mode in ("off", "on"):
            port = free_port()
            proc = start([str(BIN / "arbiter"), "serve", "--workers", "1", "--port", str(port)],
                         env | {"ARBITER_PUBLISH": "true" if mode == "on" else "false"}, port)
            since = datetime.now(UTC)
            try:
                url = f"http://127.0.0.1:{port}/v1/detectors/{DETECTOR}/score"
                result = wrk(url, body, 8, args.duration)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            runs[mode].append(result)
            if mode == "on":
                decisions, _ = counts(env)
                wait_for(env, decisions)  # the worker catches up, then the lag of that window is complete
                lags.append(lag(env, since))
            print(f"round {round_ + 1} fan-out {mode}: {result} {lags[-1] if mode == 'on' else ''}", file=sys.stderr)
    summary = {mode: {k: statistics.median(r[k] for r in results) for k in ("rps", "p50_ms", "p99_ms")}
               | {"non_2xx": sum(r["non_2xx"] for r in results)} for mode, results in runs.items()}
    return summary, lags


def steady_lag(env: dict[str, str], records: list[dict], args: argparse.Namespace) -> dict:
    """Send `--rate` applications per second for `--duration` seconds; the lag of what they became."""
    import threading

    import httpx

    port = free_port()
    proc = start([str(BIN / "arbiter"), "serve", "--workers", "1", "--port", str(port)], env, port)
    since, sent, failed = datetime.now(UTC), [0], [0]
    threads = 4
    interval = threads / args.rate

    def load(k: int) -> None:
        url = f"http://127.0.0.1:{port}/v1/detectors/{DETECTOR}/score"
        with httpx.Client() as client:
            next_at, i = time.perf_counter(), k
            while next_at < deadline:
                status = client.post(url, json={"data": records[i % len(records)]}).status_code
                sent[0] += 1
                failed[0] += status != 200
                i += threads
                next_at += interval
                time.sleep(max(0.0, next_at - time.perf_counter()))
    deadline = time.perf_counter() + args.duration
    workers = [threading.Thread(target=load, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    proc.terminate()
    proc.wait(timeout=30)
    decisions, _ = counts(env)
    wait_for(env, decisions)
    result = lag(env, since) | {"rate": args.rate, "sent": sent[0], "failed": failed[0]}
    print(f"steady {args.rate}/s: {result}", file=sys.stderr)
    return result


def write_report(args: argparse.Namespace, report: dict) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "shadow_path.json").write_text(json.dumps(report, indent=1, default=str))
    w, g, st = report["worker"], report["gateway"], report["steady"]
    lag_p50 = statistics.median(x["p50_ms"] for x in report["lag"])
    lag_p99 = statistics.median(x["p99_ms"] for x in report["lag"])
    lines = [
        "# Shadow path: worker throughput, end-to-end lag, gateway latency with fan-out on and off", "",
        f"{report['cpus']} CPUs shared by everything (gateway, worker, RabbitMQ, Postgres, wrk). Detector "
        f"{DETECTOR}: champion rf (100 trees), challengers {', '.join(CHALLENGERS)}; messages sealed with "
        "AES-GCM; quorum queues; publisher confirms.", "",
        "## One worker process, three challengers plus the recorder", "",
        f"Backlogs of {args.rows:,} applications, each drained by one `arbiter worker` (timed from the first row "
        f"stored): **{w['applications_per_s']:.0f} applications/s** with the evidence aggregates kept as rows are "
        f"stored, {w['without_evidence']:.0f}/s without (`ARBITER_EVIDENCE=false`): "
        f"**{w['evidence_ratio']:.2f}** of the throughput (mean of two rounds each, off-on-on-off). Each "
        f"application is recorded and scored by three challengers ({w['messages_per_s']:.0f} stored rows and "
        "scores/s).", "",
        "| round | evidence | seconds | applications/s |", "|---:|---|---:|---:|",
        *[f"| {i + 1} | {'on' if r['evidence'] else 'off'} | {r['seconds']:.1f} | {r['applications_per_s']:.0f} |"
          for i, r in enumerate(report["worker_rounds"])], "",
        "## Gateway with fan-out off and on (wrk, 8 connections, one uvicorn worker)", "",
        "| fan-out | req/s | p50 ms | p99 ms | non-2xx |", "|---|---:|---:|---:|---:|",
        *[f"| {m} | {g[m]['rps']:.0f} | {g[m]['p50_ms']:.2f} | {g[m]['p99_ms']:.2f} | {g[m]['non_2xx']} |"
          for m in ("off", "on")], "",
        "## End-to-end lag (published -> scored by a challenger)", "",
        f"- steady {st['rate']} applications/s for {args.duration}s ({st['sent']:,} sent, {st['failed']} failed): "
        f"**p50 {st['p50_ms']:.0f} ms, p99 {st['p99_ms']:.0f} ms** ({st['rows']:,} challenger rows).",
        f"- under the saturating wrk load above (the gateway outruns the worker on these 2 shared CPUs, so a "
        f"backlog builds): p50 {lag_p50:.0f} ms, p99 {lag_p99:.0f} ms (median over {len(report['lag'])} runs; "
        f"{sum(x['rows'] for x in report['lag']):,} challenger rows).",
    ]
    (args.out / "shadow_path.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
