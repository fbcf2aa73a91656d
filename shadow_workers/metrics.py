"""A worker's metrics and health, for `arbiter worker --metrics-port P`: Prometheus text on
`/metrics` and `/healthz` (200 while the broker is connected and the database answered last time,
503 otherwise, with what is wrong), served by a small thread of the worker process.

A registry of its own (not the process-global one): the embedded worker runs inside a gateway
process, whose `/metrics` must not show the same names twice."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class WorkerMetrics:
    """What a worker counts: per queue and model, messages consumed, stored, retried and dead-lettered,
    batch sizes and durations, lag from publish to commit; the broker and database state; reconnects."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["queue", "model"]
        self.consumed = Counter("arbiter_worker_consumed_total", "Messages taken from a queue", labels,
                                registry=self.registry)
        self.stored = Counter("arbiter_worker_stored_total", "Applications committed (recorded or scored)", labels,
                              registry=self.registry)
        self.retried = Counter("arbiter_worker_retried_total", "Messages sent back for another attempt", labels,
                               registry=self.registry)
        self.dead = Counter("arbiter_worker_dead_lettered_total", "Messages given up on (arbiter.dead)", labels,
                            registry=self.registry)
        self.batch_size = Histogram("arbiter_worker_batch_size", "Deliveries per batch", labels,
                                    buckets=(1, 5, 10, 25, 50, 100, 200, 500, 1000, 2000, 5000),
                                    registry=self.registry)
        self.batch_seconds = Histogram("arbiter_worker_batch_seconds", "Time to prepare, store and acknowledge a "
                                       "batch", labels, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
                                                                 10), registry=self.registry)
        self.lag = Histogram("arbiter_worker_lag_seconds", "From publish (gateway) to commit (worker)", labels,
                             buckets=LAG_BUCKETS, registry=self.registry)
        self.broker_up = Gauge("arbiter_worker_broker_connected", "1 while connected to the broker",
                               registry=self.registry)
        self.database_up = Gauge("arbiter_worker_database_up", "1 when the database answered the last write",
                                 registry=self.registry)
        self.reconnects = Counter("arbiter_worker_reconnects_total", "Broker connections lost and tried again",
                                  registry=self.registry)
        self.queues = Gauge("arbiter_worker_queues", "Queues consumed", registry=self.registry)
        self.database_up.set(1)

    def health(self) -> tuple[bool, dict[str, Any]]:
        broker = self.broker_up._value.get() == 1
        database = self.database_up._value.get() == 1
        return broker and database, {"status": "ok" if broker and database else "unavailable",
                                     "broker": "connected" if broker else "disconnected",
                                     "database": "up" if database else "down",
                                     "queues": int(self.queues._value.get())}

    def serve(self, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
        """Serve `/metrics` and `/healthz` on `port` from a daemon thread; the server (to close it)."""
        metrics = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server calls
                if self.path.split("?", 1)[0] == "/metrics":
                    self._answer(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
                elif self.path.split("?", 1)[0] == "/healthz":
                    healthy, body = metrics.health()
                    self._answer(200 if healthy else 503, json.dumps(body).encode(), "application/json")
                else:
                    self._answer(404, b'{"detail": "not found: /metrics or /healthz"}', "application/json")

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:  # scrapes every few seconds: not worth a log line each
                return

        server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
        return server
