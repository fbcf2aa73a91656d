"""Prometheus metrics of the gateway (multi-process aware when PROMETHEUS_MULTIPROC_DIR is set)."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("arbiter_requests_total", "Scored applications", ["detector", "decision"])
ERRORS = Counter("arbiter_errors_total", "Requests answered with an error", ["route", "status"])
LATENCY = Histogram("arbiter_request_seconds", "Scoring latency per request", ["detector"],
                    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))
CHAMPION = Gauge("arbiter_champion_info", "1 for the champion model in force", ["detector", "model_id"],
                 multiprocess_mode="liveall")

CHAMPION_LOADED = Gauge("arbiter_champion_loaded", "1 when a champion is loaded for a detector this deployment "
                        "serves (ARBITER_SERVED_DETECTORS), 0 when none is", ["detector"], multiprocess_mode="livemin")
SHADOW_COVERAGE = Gauge("arbiter_shadow_coverage_ratio", "Share of the applications published to a challenger in "
                        "shadow mode that it scored, over its window (shadow_coverage)", ["detector", "model_id"],
                        multiprocess_mode="livemin")
SHADOW_LAG = Gauge("arbiter_shadow_lag_seconds", "From the newest application published to a challenger to the "
                   "newest it scored (shadow_coverage)", ["detector", "model_id"], multiprocess_mode="livemax")
DRIFT_PSI = Gauge("arbiter_drift_psi", "Population stability index of a model's score or input on the latest day it "
                  "scored (model_drift; 0.25 or more: shift)", ["detector", "model_id", "kind", "variable"],
                  multiprocess_mode="livemax")

REFUSED_BUNDLES = Gauge("arbiter_bundle_refused", "1 for a model whose bundle no longer matches the digest recorded "
                        "at registration (not loaded)", ["model_id"], multiprocess_mode="liveall")


def render() -> tuple[bytes, str]:
    """The exposition text for this process, or for all workers in multi-process mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
