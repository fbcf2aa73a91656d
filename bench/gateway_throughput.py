"""Benchmark: the scoring endpoint against a bare FastAPI endpoint, in the same run.

    python bench/gateway_throughput.py [--duration 10] [--rounds 2] [--out bench/reports]

Sets up its own SQLite database and registry in a temporary folder, trains a 100-tree random
forest for card-transactions, registers and promotes it, then loads (with `wrk`, one thread,
on loopback) in turn: the bare endpoint (parses the same JSON body, returns a constant) and
`arbiter serve --workers 1`, at concurrency 1 and 32, interleaved, `--rounds` times. Reports
requests per second, p50/p99 latency and the gateway/bare throughput ratio (goal >= 0.6).
Needs wrk (`apt-get install wrk`). Never asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not start: {cmd}")


def wrk(url: str, body_file: Path, connections: int, duration: int) -> dict:
    script = body_file.with_suffix(".lua")
    script.write_text(f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                      f'local f = io.open("{body_file}", "rb")\nwrk.body = f:read("*a")\nf:close()\n')
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    def pct(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
    return {"rps": rps, "p50_ms": pct("50"), "p99_ms": pct("99"), "non_2xx": int(errors.group(1)) if errors else 0}


def prepare(work: Path, env: dict[str, str]) -> Path:
    """Train, register and promote the champion; the body file of one real transaction."""
    def arbiter(*args: str) -> None:
        subprocess.run([str(BIN / "arbiter"), *args], env=env, check=True, capture_output=True)

    arbiter("db", "upgrade")
    data = work / "tx.csv"
    arbiter("data", "synth", "--detector", "card-transactions", "--rows", "60000", "--seed", "5",
            "--out", str(data), "--fraud-rate", "0.01")
    arbiter("train", "--detector", "card-transactions", "--recipe", "rf", "--data", str(data),
            "--out", str(work / "rf"), "--param", "n_estimators=100")
    arbiter("register", str(work / "rf"))
    arbiter("promote", "card-transactions-rf.v1", "--reason", "benchmark", "--force")
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
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBITER_")} | {
        "ARBITER_DATABASE_URL": f"sqlite:///{work}/arbiter.db", "ARBITER_REGISTRY_DIR": str(work / "registry"),
        "ARBITER_PII_KEY": "bench-key"}
    print("preparing: synthesize, train a 100-tree forest, register, promote ...", file=sys.stderr)
    body = prepare(work, env)

    servers = {
        "bare": [str(BIN / "uvicorn"), "--app-dir", str(HERE), "bare_app:app", "--log-level", "warning",
                 "--no-access-log"],
        "gateway": [str(BIN / "arbiter"), "serve", "--workers", "1"],
    }
    runs: dict[str, dict[int, list[dict]]] = {name: {1: [], 32: []} for name in servers}
    for round_ in range(args.rounds):
        for connections in (1, 32):
            for name, cmd in servers.items():
                port = free_port()
                proc = start([*cmd, "--port", str(port)], env, port)
                try:
                    url = f"http://127.0.0.1:{port}/v1/detectors/card-transactions/score"
                    wrk(url, body, connections, 2)  # warm-up
                    result = wrk(url, body, connections, args.duration)
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
                runs[name][connections].append(result)
                print(f"round {round_ + 1} c={connections} {name}: {result}", file=sys.stderr)

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
             f"{args.rounds} interleaved rounds, {os.cpu_count()} CPUs shared by server and load generator. "
             "Champion: RandomForest, 100 trees, served by onnxruntime.", "",
             "| endpoint | concurrency | req/s | p50 ms | p99 ms | non-2xx |", "|---|---:|---:|---:|---:|---:|"]
    for c in (1, 32):
        for name in ("bare", "gateway"):
            s = summary[name][c]
            lines.append(f"| {name} | {c} | {s['rps']:.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {s['non_2xx']} |")
    lines += ["", f"Throughput ratio gateway/bare: {ratio[1]:.2f} at concurrency 1, {ratio[32]:.2f} at 32 "
              "(goal: at least 0.6 on one worker)."]
    (args.out / "gateway_throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
