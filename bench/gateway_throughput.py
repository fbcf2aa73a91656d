"""Benchmark: the scoring endpoint against a bare FastAPI endpoint, in the same run.

    python bench/gateway_throughput.py [--duration 10] [--rounds 2] [--out bench/reports]

Sets up a scratch Postgres database, RabbitMQ vhost and registry, trains a 100-tree random
forest for card-transactions, registers and promotes it, starts one `arbiter worker`, then
loads (with `wrk`, one thread, on loopback) in turn: the bare endpoint (parses the same JSON
body, returns a constant) and `arbiter serve --workers 1` publishing to RabbitMQ from its
publisher process (the worker paused during the run; plus variants: the publisher as a thread of
the gateway process, the worker consuming on the same CPUs, publishing off, and the embedded
memory:// + SQLite mode), at concurrency 1 and 32, interleaved, `--rounds` times. Reports
requests per second, p50/p99 latency and the gateway/bare throughput ratio (goal >= 0.6).
Needs wrk (`apt-get install wrk`), RabbitMQ and Postgres (rabbitmqctl on PATH). Never asserts
a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import BIN, Scratch, arbiter, clean_env, free_port, start, wrk  # noqa: E402


def prepare(work: Path, env: dict[str, str]) -> Path:
    """Train, register and promote the champion; the body file of one real transaction."""
    def cli(*args: str) -> None:
        arbiter(env, *args)

    cli("db", "upgrade")
    data = work / "tx.csv"
    cli("data", "synth", "--detector", "card-transactions", "--rows", "60000", "--seed", "5",
            "--out", str(data), "--fraud-rate", "0.01")
    cli("train", "--detector", "card-transactions", "--recipe", "rf", "--data", str(data),
            "--out", str(work / "rf"), "--param", "n_estimators=100")
    cli("register", str(work / "rf"))
    cli("promote", "card-transactions-rf.v1", "--reason", "benchmark", "--force")
    row = json.loads((work / "rf" / "certification.json").read_text())["rows"][0]
    body = work / "body.json"
    body.write_text(json.dumps({"data": row}))
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench/reports"))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="arbiter-gw-bench-"))
    scratch = Scratch()  # the production shape: Postgres, RabbitMQ, a separate `arbiter worker`
    env = clean_env(database_url=scratch.database_url, broker_url=scratch.broker_url,
                    registry_dir=str(work / "registry"), spool_dir=str(work / "spool"), pii_key="bench-key")
    print("preparing: synthesize, train a 100-tree forest, register, promote ...", file=sys.stderr)
    body = prepare(work, env)
    gateway = [str(BIN / "arbiter"), "serve", "--workers", "1"]
    servers = {  # name: (command, environment, the worker consumes during the run)
        "bare": ([str(BIN / "uvicorn"), "--app-dir", str(HERE), "bare_app:app", "--log-level", "warning",
                  "--no-access-log"], env, False),
        "gateway": (gateway, env, False),
        "gateway, publisher thread": (gateway, env | {"ARBITER_PUBLISHER": "thread"}, False),
        "gateway + worker on the same CPUs": (gateway, env, True),
        "gateway, publishing off": (gateway, env | {"ARBITER_PUBLISH": "false"}, False),
        "gateway, explanations off": (gateway, env | {"ARBITER_EXPLANATIONS": "false"}, False),
        "gateway, embedded (memory://, SQLite)": (gateway, env | {
            "ARBITER_BROKER_URL": "memory://", "ARBITER_DATABASE_URL": f"sqlite:///{work}/embedded.db"}, False),
    }
    arbiter(servers["gateway, embedded (memory://, SQLite)"][1], "db", "upgrade")
    arbiter(servers["gateway, embedded (memory://, SQLite)"][1], "register", str(work / "rf"))
    arbiter(servers["gateway, embedded (memory://, SQLite)"][1], "promote", "card-transactions-rf.v1",
            "--reason", "benchmark", "--force")
    worker = subprocess.Popen([str(BIN / "arbiter"), "worker"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    runs: dict[str, dict[int, list[dict]]] = {name: {1: [], 32: []} for name in servers}
    try:
        for round_ in range(args.rounds):
            measure_round(round_, servers, body, args.duration, runs, Pausable(worker, scratch.broker_url))
    finally:
        worker.send_signal(signal.SIGCONT)
        worker.terminate()
        worker.wait(timeout=30)
        scratch.close()
    write_report(args, runs)


class Pausable:
    """The shadow worker, paused (SIGSTOP) while the gateway alone is measured and resumed to drain
    the recorder queue afterwards: in production it runs on other machines, not on these 2 CPUs."""

    def __init__(self, worker: subprocess.Popen, broker_url: str) -> None:
        from arbiter.broker.amqp import AmqpBroker

        self.worker, self.broker = worker, AmqpBroker(broker_url)

    def pause(self) -> None:
        self.worker.send_signal(signal.SIGSTOP)

    def resume_and_drain(self) -> None:
        self.worker.send_signal(signal.SIGCONT)
        connection = self.broker.connect()
        try:
            while connection.depth("arbiter.recorder") > 0:
                time.sleep(0.5)
        finally:
            connection.close()


def measure_round(round_: int, servers: dict, body: Path, duration: int, runs: dict, worker: Pausable) -> None:
    for connections in (1, 32):
        for name, (cmd, env, consuming) in servers.items():
            port = free_port()
            proc = start([*cmd, "--port", str(port)], env, port)
            if not consuming:
                worker.pause()
            try:
                url = f"http://127.0.0.1:{port}/v1/detectors/card-transactions/score"
                wrk(url, body, connections, 2)  # warm-up
                result = wrk(url, body, connections, duration)
            finally:
                proc.terminate()
                proc.wait(timeout=20)
                worker.resume_and_drain()
            runs[name][connections].append(result)
            print(f"round {round_ + 1} c={connections} {name}: {result}", file=sys.stderr)


def write_report(args: argparse.Namespace, runs: dict) -> None:
    summary = {name: {c: {k: statistics.median(r[k] for r in results) for k in ("rps", "p50_ms", "p99_ms")}
                      | {"non_2xx": sum(r["non_2xx"] for r in results)}
                      for c, results in by_c.items()} for name, by_c in runs.items()}
    ratio = {c: summary["gateway"][c]["rps"] / summary["bare"][c]["rps"] for c in (1, 32)}
    report = {"duration_s": args.duration, "rounds": args.rounds, "cpus": os.cpu_count(), "summary": summary,
              "throughput_ratio": ratio, "runs": runs}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gateway_throughput.json").write_text(json.dumps(report, indent=1))
    lines = ["# Gateway throughput: scoring endpoint vs bare FastAPI endpoint", "",
             f"One uvicorn worker each, wrk with one thread on loopback, {args.duration}s per run, median of "
             f"{args.rounds} interleaved rounds, {os.cpu_count()} CPUs shared by server, load generator, RabbitMQ "
             "and Postgres. Champion: RandomForest, 100 trees, served by onnxruntime.", "",
             "- **gateway**: the production shape: publishes every decision to RabbitMQ (confirms, persistent, "
             "quorum queue) from its publisher process; the `arbiter worker` that records them in Postgres is "
             "paused during the run (in production it runs elsewhere) and drains the queue afterwards.",
             "- **publisher thread**: the same, publishing from a thread of the gateway process "
             "(`ARBITER_PUBLISHER=thread`, the design before the publisher process).",
             "- **gateway + worker on the same CPUs**: the same, with the worker consuming during the run: "
             "gateway, worker, Postgres, RabbitMQ and wrk share the 2 CPUs.",
             "- **publishing off**: `ARBITER_PUBLISH=false`, nothing recorded (the scoring path alone).",
             "- **explanations off**: `ARBITER_EXPLANATIONS=false`: the model's own graph scores, no `explanation` "
             "(the gateway row has them on: the contribution graph, 100 trees, gives the score and the reasons "
             "in one call).",
             "- **embedded**: `memory://` broker, the recorder thread in the gateway process writing SQLite.", "",
             "| endpoint | concurrency | req/s | p50 ms | p99 ms | non-2xx |", "|---|---:|---:|---:|---:|---:|"]
    for c in (1, 32):
        for name in runs:
            s = summary[name][c]
            lines.append(f"| {name} | {c} | {s['rps']:.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {s['non_2xx']} |")
    shared = {c: summary["gateway + worker on the same CPUs"][c]["rps"] / summary["bare"][c]["rps"] for c in (1, 32)}
    explained = {c: summary["gateway"][c]["rps"] / summary["gateway, explanations off"][c]["rps"] for c in (1, 32)}
    report["explanations_on_off_ratio"] = explained
    (args.out / "gateway_throughput.json").write_text(json.dumps(report, indent=1))
    lines += ["", f"Throughput ratio gateway/bare: {ratio[1]:.2f} at concurrency 1, {ratio[32]:.2f} at 32 "
              "(goal: at least 0.6 on one worker). With the worker consuming on the same 2 CPUs: "
              f"{shared[1]:.2f} and {shared[32]:.2f}.",
              "", f"Explanations on/off: {explained[1]:.2f} at concurrency 1, {explained[32]:.2f} at 32 "
              "(goal: at least 0.9)."]
    (args.out / "gateway_throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
