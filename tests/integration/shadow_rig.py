"""A rig for the shadow path against the real RabbitMQ and Postgres: its own vhost, the gateway
(FastAPI TestClient, publishing to RabbitMQ), `arbiter worker` processes, and row counts."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from arbiter.bootstrap import Platform, bootstrap
from arbiter.gateway.app import create_app
from arbiter.governance.registry import register_bundle
from arbiter.store import tables
from models.synth import synthesize
from tests.conftest import train_small
from tests.helpers import ARBITER
from tests.integration.conftest import PII_KEY

TOKEN = "shadow-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
MESSAGE_KEY = "shadow-test-message-key"
DETECTOR = "card-applications"
CHALLENGER_RECIPES = ("logreg", "hgb", "isolation-forest")


def rabbitmqctl(*args: str, timeout: float = 120) -> str:
    proc = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"rabbitmqctl {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}", pytrace=False)
    return proc.stdout


@pytest.fixture
def rabbit_url() -> Iterator[str]:
    """A fresh vhost on the real RabbitMQ for one test (no queue leaks between tests)."""
    vhost = f"arbiter_test_{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    subprocess.run(["rabbitmqctl", "start_app"], capture_output=True, timeout=120)  # in case a test stopped it
    subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def application_bundles(app_frame, app_logreg_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A champion (rf) and three challengers for card-applications, trained small."""
    bundles = {"logreg": app_logreg_bundle}
    for recipe in ("rf", "hgb", "isolation-forest"):
        bundles[recipe] = train_small(app_frame, DETECTOR, recipe, tmp_path_factory.mktemp(recipe) / "b").bundle_dir
    return bundles


@dataclass
class ShadowRig:
    platform: Platform
    client: TestClient
    env: dict[str, str]
    log_dir: Path
    challengers: list[str] = field(default_factory=list)
    workers: list[subprocess.Popen] = field(default_factory=list)

    # -- processes ----------------------------------------------------------------------------
    def start_worker(self, *args: str) -> subprocess.Popen:
        log = open(self.log_dir / f"worker-{len(self.workers)}.log", "w")  # noqa: SIM115 - lives with the process
        proc = subprocess.Popen([ARBITER, "worker", "--batch-size", "100", "--max-wait", "0.1", *args],
                                env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def worker_logs(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in sorted(self.log_dir.glob("worker-*.log")))

    def stop_workers(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers:
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=20)
            if proc.poll() is None:
                proc.kill()

    # -- traffic ------------------------------------------------------------------------------
    def applications(self, count: int, prefix: str, seed: int = 5) -> list[dict]:
        frame = synthesize(DETECTOR, count, seed=seed).drop(columns=["is_fraud"])
        rows = frame.to_dict(orient="records")
        return [{"application_id": f"{prefix}-{i}", "data": {k: v for k, v in row.items() if k != "application_id"
                                                             and not (isinstance(v, float) and math.isnan(v))}}
                for i, row in enumerate(rows)]

    def score(self, application: dict) -> int:
        return self.client.post(f"/v1/detectors/{DETECTOR}/score", json=application).status_code

    # -- counting -----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        with self.platform.sessions() as session:
            counts = {"decisions": session.scalar(select(func.count()).select_from(tables.Decision)) or 0,
                      "applications": session.scalar(select(func.count()).select_from(tables.Application)) or 0}
            for model_id, n in session.execute(select(tables.ShadowScore.model_id, func.count())
                                               .group_by(tables.ShadowScore.model_id)).all():
                counts[model_id] = n
        return counts

    def wait_for(self, expected: int | dict[str, int], timeout: float = 240.0) -> dict[str, int]:
        """Poll until decisions and every challenger's shadow rows reach `expected` (or time out);
        `expected` is one number for all, or a number per key of `counts()`."""
        if isinstance(expected, int):
            expected = dict.fromkeys(["decisions", *self.challengers], expected)
        deadline = time.monotonic() + timeout
        counts: dict[str, int] = {}
        while time.monotonic() < deadline:
            with suppress(Exception):  # the database may be restarting
                counts = self.counts()
                if all(counts.get(k, 0) >= n for k, n in expected.items()):
                    time.sleep(1.0)  # anything beyond expected (a duplicate) would show now
                    return self.counts()
            time.sleep(0.5)
        return counts


@pytest.fixture
def rig(platform: Platform, rabbit_url: str, application_bundles: dict, tmp_path: Path) -> Iterator[ShadowRig]:
    """The gateway publishing to a fresh vhost, champion rf and three challengers in shadow, no worker yet."""
    settings = platform.settings.model_copy(update={
        "broker_url": rabbit_url, "spool_dir": tmp_path / "spool", "admin_token": SecretStr(TOKEN),
        "message_key": SecretStr(MESSAGE_KEY), "registry_dir": platform.settings.registry_dir})
    amqp_platform = bootstrap(settings)
    ids = {recipe: register_bundle(amqp_platform, bundle).model.id
           for recipe, bundle in application_bundles.items()}
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBITER_")} | {
        "ARBITER_DATABASE_URL": settings.database_url, "ARBITER_BROKER_URL": rabbit_url,
        "ARBITER_REGISTRY_DIR": str(settings.registry_dir), "ARBITER_PII_KEY": PII_KEY,
        "ARBITER_MESSAGE_KEY": MESSAGE_KEY, "ARBITER_SPOOL_DIR": str(tmp_path / "worker-spool")}
    app = create_app(amqp_platform, refresh_interval=0.5)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/admin/v1/champion", headers=ADMIN, json={
            "detector": DETECTOR, "model_id": ids["rf"], "reason": "shadow-path test", "force": True})
        assert r.status_code == 200, r.text
        for recipe in CHALLENGER_RECIPES:
            r = client.post(f"/admin/v1/models/{ids[recipe]}/shadow", headers=ADMIN)
            assert r.status_code == 200, r.text
        client.app.state.serving.refresh()
        rig = ShadowRig(amqp_platform, client, env, tmp_path, challengers=[ids[r] for r in CHALLENGER_RECIPES])
        try:
            yield rig
        finally:
            rig.stop_workers()
    amqp_platform.close()
