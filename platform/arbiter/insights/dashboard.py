"""Everything the dashboard draws, in one JSON-ready dict, read from the strategists' views."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from arbiter.bootstrap import Platform
from arbiter.insights import reporting, workbench
from arbiter.insights.reporting import Window

PARTS: dict[str, Callable[[Connection, Window], Any]] = {  # the slowest first
    "roc": reporting.roc_curves,
    "histograms": reporting.score_histograms,
    "daily": reporting.daily_performance,
    "drift": reporting.latest_drift,
    "coverage": reporting.coverage,
    "promotions": reporting.promotions,
    "fairness": reporting.fairness,
    "reasons": reporting.top_reasons,
    "disagreements": reporting.disagreements,
    "simulator": lambda conn, w: workbench.simulator_data(conn, w.detector, w.since_day),
}
READERS = 3  # the parts are independent reads: a few connections at once answer in about the slowest one's time


def dashboard_data(platform: Platform, window: Window) -> dict[str, Any]:
    """Per detector: champion and comparison (with swap sets), ROC curves, score histograms, daily
    performance, shadow coverage, latest drift, fairness by age band and region, the top reasons of each
    model's declines and reviews, where two models disagree and why, and the promotion history;
    and what waits for a governance decision, with the latest audit events."""
    engine = platform.engine

    def read(part: Callable[[Connection, Window], Any]) -> Any:
        with engine.connect() as conn:
            return part(conn, window)

    with ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="dashboard") as pool:
        report = pool.submit(read, lambda conn, w: reporting.report(conn, engine.dialect.name, w))
        waiting = pool.submit(read, lambda conn, _: reporting.governance(conn))
        futures = {name: pool.submit(read, part) for name, part in PARTS.items()}
        entries = report.result()
        parts = {name: future.result() for name, future in futures.items()}
    detectors = sorted({e.detector for e in entries} | _detectors_in(parts) |
                       ({window.detector} if window.detector else set()))
    sections = []
    for name in detectors:
        entry = next((e for e in entries if e.detector == name), None)
        sections.append({
            "detector": name,
            "champion": entry.champion if entry else None,
            "comparison": entry.challengers if entry else [],
            "roc": {m: c for m, c in parts["roc"].items() if c["detector"] == name},
            "histograms": [r for r in parts["histograms"] if r["detector"] == name],
            "daily": [r for r in parts["daily"] if r["detector"] == name],
            "coverage": [r for r in parts["coverage"] if r["detector"] == name],
            "drift": [r for r in parts["drift"] if r["detector"] == name],
            "promotions": [r for r in parts["promotions"] if r["detector"] == name],
            "fairness": [r for r in parts["fairness"] if r["detector"] == name],
            "reasons": [r for r in parts["reasons"] if r["detector"] == name],
            "disagreements": [r for r in parts["disagreements"] if r["detector"] == name],
            "simulator": next((r for r in parts["simulator"] if r["detector"] == name), None),
        })
    return _plain({"generated_at": datetime.now(UTC), "detector": window.detector, "since": window.since,
                   "detectors": sections, "governance": waiting.result()})


def _detectors_in(parts: dict[str, Any]) -> set[str]:
    found = {c["detector"] for c in parts["roc"].values()}
    for key in ("histograms", "daily", "coverage", "drift", "promotions", "fairness", "reasons", "disagreements"):
        found |= {r["detector"] for r in parts[key] if r.get("detector")}
    return found


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO text, Decimals and numpy numbers as floats."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return float(value)
