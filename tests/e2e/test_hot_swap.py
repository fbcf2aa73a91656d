"""A promotion reaches every worker of a two-process gateway under load: no failed request,
no request scored by a half-loaded model, and no worker going back to the old champion."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from arbiter.bootstrap import Platform
from arbiter.governance.promotion import promote
from arbiter.governance.registry import register_bundle
from models.runtimes import load_runtime
from tests.e2e.gateway_process import GatewayProcess

pytestmark = pytest.mark.integration
TOKEN = "hot-swap-admin-token"


def test_promotion_reaches_every_worker_under_load(platform: Platform, cli_env: dict[str, str], rf_bundle: Path,
                                                   tx_logreg_bundle: Path) -> None:
    a = register_bundle(platform, rf_bundle).model.id
    b = register_bundle(platform, tx_logreg_bundle).model.id
    promote(platform, a, reason="initial", actor="test", force=True)
    rows = json.loads((rf_bundle / "certification.json").read_text())["rows"][:50]
    expected = {a: load_runtime(rf_bundle).score_records(rows), b: load_runtime(tx_logreg_bundle).score_records(rows)}
    assert np.abs(expected[a] - expected[b]).min() > 1e-4  # the two models are told apart by every row

    # (received at, status, model, row, score, worker pid, sent at)
    log: list[tuple[float, int, str | None, int, float | None, str, float]] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        # a new connection per request: the kernel spreads accepts over both workers (kept-alive
        # connections could all stay with one of them)
        with httpx.Client(base_url=gateway.url, timeout=10.0, headers={"Connection": "close"}) as client:
            for n in range(100_000):  # bounded in count and in time
                if stop.is_set():
                    return
                i = (worker * 7 + n) % len(rows)
                sent = time.monotonic()
                try:
                    r = client.post("/v1/detectors/card-transactions/score", json={"data": rows[i]})
                    body = r.json() if r.status_code == 200 else {}
                    log.append((time.monotonic(), r.status_code, (body.get("model") or {}).get("id"), i,
                                body.get("score"), r.headers.get("x-served-by", "?"), sent))
                except httpx.HTTPError as exc:
                    log.append((time.monotonic(), 0, None, i, None, type(exc).__name__, sent))

    env = cli_env | {"ARBITER_ADMIN_TOKEN": TOKEN}
    with GatewayProcess(env, workers=2) as gateway:
        threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        time.sleep(3.0)
        r = httpx.post(f"{gateway.url}/admin/v1/champion", headers={"Authorization": f"Bearer {TOKEN}"},
                       json={"detector": "card-transactions", "model_id": b, "reason": "hot swap", "force": True},
                       timeout=60.0)
        promoted_at = time.monotonic()  # committed: from here each worker must notice on its own
        assert r.status_code == 200, r.text
        time.sleep(5.0)
        stop.set()
        for t in threads:
            t.join(timeout=30)

    failures = [entry for entry in log if entry[1] != 200]
    assert not failures, failures[:5]
    for _, _, model, i, score, _, _ in log:  # every answer is exactly its model's score: nothing half-loaded
        assert score == pytest.approx(float(expected[model][i]), abs=1e-5)
    workers = {entry[5] for entry in log}
    assert len(workers) == 2, workers
    switch: dict[str, float] = {}
    for pid in workers:
        served = [(received, model, sent) for received, _, model, _, _, who, sent in log if who == pid]
        first_b = min(received for received, model, _ in served if model == b)
        # a request sent after this worker had already answered with B must not get A
        assert all(model == b for _, model, sent in served if sent > first_b), f"worker {pid} went back to {a}"
        switch[pid] = first_b - promoted_at
    print(f"\nhot swap: {len(log)} requests, 0 failed; switch latency per worker (s): "
          f"{ {pid: round(s, 3) for pid, s in switch.items()} }")
