"""`arbiter worker --metrics-port`: Prometheus metrics an operator can watch (counts per queue and
model, batch sizes and durations, lag from publish to commit, connection states) and a health check
that turns 503 while the broker is away and 200 once the worker is back."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from arbiter.cli.demo_services import pick_port
from tests.integration.shadow_rig import ShadowRig, application_bundles, rabbit_url, rabbitmqctl, rig

pytestmark = pytest.mark.integration
__all__ = ["application_bundles", "rabbit_url", "rig"]  # fixtures
N = 200


def _metric(text: str, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})? ([0-9.e+-]+)$", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total


def _poll(url: str, status: int, timeout: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = httpx.get(url, timeout=2)
            if r.status_code == status:
                return r
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} never answered {status}"
        time.sleep(0.25)


def test_worker_metrics_count_what_it_stores_and_health_follows_the_broker(rig: ShadowRig) -> None:
    port = pick_port(0)
    rig.start_worker("--metrics-port", str(port))
    health = _poll(f"http://127.0.0.1:{port}/healthz", 200)
    assert health.json()["broker"] == "connected" and health.json()["queues"] == 4  # the recorder and 3 challengers
    for application in rig.applications(N, "metrics"):
        assert rig.score(application) == 200
    rig.wait_for(N)
    time.sleep(1.0)
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    assert _metric(text, "arbiter_worker_stored_total", queue="arbiter.recorder") == N
    for model_id in rig.challengers:
        assert _metric(text, "arbiter_worker_stored_total", model=model_id) == N
        assert _metric(text, "arbiter_worker_lag_seconds_count", model=model_id) == N
        assert 1 <= _metric(text, "arbiter_worker_consumed_total", model=model_id) <= N  # a message carries several
    assert _metric(text, "arbiter_worker_batch_seconds_count", queue="arbiter.recorder") >= 1
    assert _metric(text, "arbiter_worker_dead_lettered_total") == 0
    assert _metric(text, "arbiter_worker_broker_connected") == 1 and _metric(text, "arbiter_worker_database_up") == 1

    rabbitmqctl("stop_app")  # the broker goes away: unhealthy, and the reconnects are counted
    try:
        down = _poll(f"http://127.0.0.1:{port}/healthz", 503)
        assert down.json() | {"queues": 0} == {"status": "unavailable", "broker": "disconnected", "database": "up",
                                                "queues": 0}
    finally:
        rabbitmqctl("start_app")
    _poll(f"http://127.0.0.1:{port}/healthz", 200, timeout=120)
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    assert _metric(text, "arbiter_worker_reconnects_total") >= 1
    assert httpx.get(f"http://127.0.0.1:{port}/nope").status_code == 404
