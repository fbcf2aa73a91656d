"""The alert rules shipped in deploy/prometheus/ against real processes: a gateway (`arbiter serve`)
and a shadow worker (`arbiter worker --metrics-port`) on the real Postgres and RabbitMQ, scraped
every second by a real Prometheus (Debian's `prometheus` package) that evaluates the shipped rules
every second. The test produces each condition and waits until Prometheus holds that alert as
pending or firing, that is, until the rule's expression matched the scraped metrics (how long it
must hold before paging, `for:`, is the operator's choice and not waited out here). Every metric the
rules and the Grafana dashboard read is one the processes expose."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pika
import pytest
import yaml

from arbiter.bootstrap import Platform, bootstrap
from arbiter.broker import topology
from arbiter.broker.codec import MessageCodec
from arbiter.cli.demo_services import pick_port
from arbiter.governance.promotion import promote
from arbiter.governance.registry import register_bundle
from arbiter.governance.shadowing import change_shadow
from models.dataio import prepare_frame
from models.detectors import get_detector
from models.synth import synthesize
from tests.e2e.gateway_process import GatewayProcess
from tests.helpers import ARBITER, copy_bundle, edit_manifest
from tests.integration.conftest import PII_KEY
from tests.integration.shadow_rig import rabbit_url, rabbitmqctl

pytestmark = pytest.mark.integration
__all__ = ["rabbit_url"]  # fixture
ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "arbiter-rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "arbiter.json"
MESSAGE_KEY = "alerts-test-message-key"
TOKEN = "alerts-admin-token-0123456789"
DETECTOR = "card-transactions"


class Prometheus:
    """`prometheus` scraping `targets` (job -> host:port) every second, with the shipped rules."""

    def __init__(self, binary: str, workdir: Path, targets: dict[str, str]) -> None:
        self.port = pick_port(0)
        self.url = f"http://127.0.0.1:{self.port}"
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "900ms"},
                  "rule_files": [str(RULES)],
                  "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [target]}]}
                                     for job, target in targets.items()]}
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = open(workdir / "prometheus.log", "w")  # noqa: SIM115 - lives with the process
        self.proc = subprocess.Popen([binary, f"--config.file={workdir / 'prometheus.yml'}",
                                      f"--storage.tsdb.path={workdir / 'data'}",
                                      f"--web.listen-address=127.0.0.1:{self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            with suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return
            assert self.proc.poll() is None and time.monotonic() < deadline, (workdir / "prometheus.log").read_text()
            time.sleep(0.2)

    def alerts(self) -> list[dict]:
        return httpx.get(f"{self.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]

    def wait_for_alert(self, name: str, timeout: float = 90.0, **labels: str) -> dict:
        """The alert `name` (with `labels`) once pending or firing."""
        deadline = time.monotonic() + timeout
        while True:
            for alert in self.alerts():
                if alert["labels"]["alertname"] == name and all(alert["labels"].get(k) == v for k, v in labels.items()):
                    return alert
            assert time.monotonic() < deadline, f"{name} {labels} never fired; alerts: {self.alerts()}"
            time.sleep(0.5)

    def metric_names(self) -> set[str]:
        return set(httpx.get(f"{self.url}/api/v1/label/__name__/values", timeout=5).json()["data"])

    def stop(self) -> None:
        self.proc.terminate()
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=20)
        if self.proc.poll() is None:
            self.proc.kill()
        self.log.close()


def _descendant(root: int, marker: str) -> int:
    """The pid of `root`'s descendant whose command line contains `marker`."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                commands[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    for pid, command in commands.items():
        ancestor = pid
        while ancestor in parents and ancestor not in (0, 1, root):
            ancestor = parents[ancestor]
        if ancestor == root and marker in command:
            return pid
    raise AssertionError(f"no process {marker!r} under {root}")


def _applications(count: int, prefix: str, **overrides: float) -> list[dict]:
    detector = get_detector(DETECTOR)
    frame = prepare_frame(synthesize(DETECTOR, count, 8, 0.02), detector)
    return [{"application_id": f"{prefix}-{i}", "data": {f: row[f] for f in detector.field_names} | overrides}
            for i, row in enumerate(frame.to_dict("records"))]


@pytest.fixture
def prometheus_binary() -> str:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("the alert rules test needs Prometheus (Debian's package: apt-get install prometheus; "
                    "`make test` installs it)", pytrace=False)
    return binary


@pytest.fixture
def services(platform: Platform, rabbit_url: str, rf_bundle: Path, tx_logreg_bundle: Path, tmp_path: Path
             ) -> Iterator[dict]:
    """Champion rf and two challengers for card-transactions; a gateway serving card-transactions and
    card-applications (which has no champion); a worker consuming the recorder and one challenger only."""
    settings = platform.settings.model_copy(update={"broker_url": rabbit_url})
    amqp = bootstrap(settings)
    champion = register_bundle(amqp, rf_bundle).model.id
    promote(amqp, champion, reason="alerts test", actor="test", force=True)
    consumed = register_bundle(amqp, tx_logreg_bundle).model.id
    other = copy_bundle(rf_bundle, tmp_path / "rf2")
    edit_manifest(other, created_at="2031-01-01T00:00:00Z")
    neglected = register_bundle(amqp, other).model.id
    for model_id in (consumed, neglected):
        change_shadow(amqp, model_id, True, actor="test")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBITER_")} | {
        "ARBITER_DATABASE_URL": settings.database_url, "ARBITER_BROKER_URL": rabbit_url,
        "ARBITER_REGISTRY_DIR": str(settings.registry_dir), "ARBITER_PII_KEY": PII_KEY,
        "ARBITER_MESSAGE_KEY": MESSAGE_KEY, "ARBITER_ADMIN_TOKEN": TOKEN, "ARBITER_GOVERNANCE": "off",
        "ARBITER_SERVED_DETECTORS": "card-transactions,card-applications", "ARBITER_OPERATIONS_INTERVAL": "1",
        "ARBITER_PUBLISH_CAPACITY": "100", "ARBITER_SPOOL_DIR": str(tmp_path / "spool")}
    worker_port = pick_port(0)
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - lives with the process
    worker = subprocess.Popen([ARBITER, "worker", "--models", consumed, "--metrics-port", str(worker_port),
                               "--batch-size", "50", "--max-wait", "0.1"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        with GatewayProcess(env) as gateway:
            yield {"gateway": gateway, "worker": worker, "worker_port": worker_port, "rabbit_url": rabbit_url,
                   "consumed": consumed, "neglected": neglected, "champion": champion}
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=20)
        if worker.poll() is None:
            worker.kill()
        log.close()
        amqp.close()


def test_every_alert_fires_on_the_condition_it_names(services: dict, prometheus_binary: str, tmp_path: Path) -> None:
    gateway, worker_port = services["gateway"], services["worker_port"]
    workdir = tmp_path / "prometheus"
    workdir.mkdir()
    prometheus = Prometheus(prometheus_binary, workdir, {"arbiter-gateway": f"127.0.0.1:{gateway.port}",
                                                         "arbiter-worker": f"127.0.0.1:{worker_port}"})
    try:
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            bad = client.post(f"/v1/detectors/{DETECTOR}/score", json={"application_id": "x", "data": {"Amount": "x"}})
            assert bad.status_code == 422  # counted in arbiter_errors_total, which the dashboard plots
            # amounts far beyond anything in training: the score and Amount distributions shift; the
            # challenger no worker consumes covers none of them
            for application in _applications(300, "drift", Amount=25_000.0):
                assert client.post(f"/v1/detectors/{DETECTOR}/score", json=application).status_code == 200
            prometheus.wait_for_alert("ArbiterNoChampion", detector="card-applications")
            firing = {alert["labels"]["alertname"] for alert in prometheus.alerts()}
            quiet = {"ArbiterDeadLetters", "ArbiterShadowLag", "ArbiterPublishLosses", "ArbiterSpoolGrowing",
                     "ArbiterWorkerDown"}
            assert not firing & quiet, firing  # none of their conditions yet
            assert "card-transactions" not in {a["labels"].get("detector") for a in prometheus.alerts()
                                               if a["labels"]["alertname"] == "ArbiterNoChampion"}
            prometheus.wait_for_alert("ArbiterShadowCoverageLow", model_id=services["neglected"])
            prometheus.wait_for_alert("ArbiterDriftShift", model_id=services["champion"])

            # a poison message on the consumed challenger's queue, and an application published ten
            # minutes ago (it waited in the queue): dead letters, and lag beyond a minute
            codec = MessageCodec(MESSAGE_KEY)
            late = _applications(1, "late")[0]
            result = {"application_id": "late-0", "score": 0.1, "decision": "approve", "reasons": [],
                      "model": {"id": services["champion"], "name": "rf", "version": 1}, "strategy_version": 1,
                      "rules_version": 1, "elapsed_ms": 1.0}
            then = datetime.now(UTC) - timedelta(minutes=10)
            connection = pika.BlockingConnection(pika.URLParameters(services["rabbit_url"]))
            channel = connection.channel()
            channel.basic_publish("", topology.shadow_queue(services["consumed"]), b"not a message")
            channel.basic_publish("", topology.RECORDER_QUEUE,
                                  codec.encode(DETECTOR, [(late["data"], result, then)], published_at=then))
            connection.close()
            prometheus.wait_for_alert("ArbiterDeadLetters", queue=topology.shadow_queue(services["consumed"]))
            prometheus.wait_for_alert("ArbiterShadowLag", queue=topology.RECORDER_QUEUE)

            # the gateway's publisher process stalls: scoring calls beyond its capacity are dropped
            relay = _descendant(gateway.proc.pid, "arbiter.broker.relay_process")
            os.kill(relay, signal.SIGSTOP)
            try:
                for application in _applications(150, "stalled"):
                    assert client.post(f"/v1/detectors/{DETECTOR}/score", json=application).status_code == 200
                prometheus.wait_for_alert("ArbiterPublishLosses")
            finally:
                os.kill(relay, signal.SIGCONT)

            # the broker goes away: the gateway spools, the worker loses its connection
            rabbitmqctl("stop_app")
            try:
                for application in _applications(40, "spooled"):
                    assert client.post(f"/v1/detectors/{DETECTOR}/score", json=application).status_code == 200
                    time.sleep(0.05)
                prometheus.wait_for_alert("ArbiterSpoolGrowing")
                prometheus.wait_for_alert("ArbiterWorkerDown", instance=f"127.0.0.1:{worker_port}")
            finally:
                rabbitmqctl("start_app")

        # the worker stops answering its scrapes
        services["worker"].kill()
        prometheus.wait_for_alert("ArbiterWorkerDown", job="arbiter-worker")

        # every metric the rules and the dashboard read is one these processes expose
        scraped = prometheus.metric_names()
        referenced = set(re.findall(r"\barbiter_[a-z_]+", RULES.read_text() + DASHBOARD.read_text()))
        assert referenced and referenced <= scraped, referenced - scraped
        assert {g["title"] for g in json.loads(DASHBOARD.read_text())["panels"]}  # a dashboard with panels
    finally:
        prometheus.stop()
