"""Helpers the benchmark scripts share: servers on free ports, wrk runs, scratch RabbitMQ vhosts and
Postgres databases, and the `arbiter` CLI of this virtualenv."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from arbiter.cli.demo_services import pick_port

BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get("ARBITER_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    return pick_port(0)


def clean_env(**arbiter: str) -> dict[str, str]:
    """This environment without any ARBITER_* variable, plus `arbiter` (names without the prefix)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBITER_")}
    return env | {f"ARBITER_{k.upper()}": v for k, v in arbiter.items()}


def arbiter(env: dict[str, str], *args: str) -> str:
    """Run the CLI; its stdout. Raises with the CLI's one-line error on failure."""
    proc = subprocess.run([str(BIN / "arbiter"), *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"arbiter {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


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
    """requests/s, p50/p99 ms and non-2xx count of one wrk run POSTing `body_file`."""
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


class Scratch:
    """A throw-away RabbitMQ vhost and Postgres database; `close()` removes both."""

    def __init__(self) -> None:
        import psycopg2

        self.name = f"arbiter_bench_{uuid.uuid4().hex[:8]}"
        subprocess.run(["rabbitmqctl", "add_vhost", self.name], check=True, capture_output=True)
        subprocess.run(["rabbitmqctl", "set_permissions", "-p", self.name, "guest", ".*", ".*", ".*"],
                       check=True, capture_output=True)
        conn = psycopg2.connect(PG_ADMIN)
        conn.autocommit = True
        conn.cursor().execute(f'CREATE DATABASE "{self.name}"')
        conn.close()
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://", 1)
        self.database_url = f"{base}/{self.name}"
        self.broker_url = f"amqp://guest:guest@127.0.0.1:5672/{self.name}"

    def close(self) -> None:
        import psycopg2

        subprocess.run(["rabbitmqctl", "delete_vhost", self.name], capture_output=True)
        conn = psycopg2.connect(PG_ADMIN)
        conn.autocommit = True
        conn.cursor().execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        conn.close()
