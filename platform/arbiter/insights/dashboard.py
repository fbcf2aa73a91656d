"""Everything the dashboard draws, in one JSON-ready dict, read from the strategists' views."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from arbiter.bootstrap import Platform
from arbiter.insights import reporting
from arbiter.insights.reporting import Window


def dashboard_data(platform: Platform, window: Window) -> dict[str, Any]:
    """Per detector: champion and comparison, ROC curves, score histograms, daily performance,
    shadow coverage, latest drift and the promotion history."""
    engine = platform.engine
    with engine.connect() as conn:
        entries = reporting.report(conn, engine.dialect.name, window)
        parts = {
            "roc": reporting.roc_curves(conn, window),
            "histograms": reporting.score_histograms(conn, window),
            "daily": reporting.daily_performance(conn, window),
            "coverage": reporting.coverage(conn, window),
            "drift": reporting.latest_drift(conn, window),
            "promotions": reporting.promotions(conn, window),
        }
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
        })
    return _plain({"generated_at": datetime.now(UTC), "detector": window.detector, "since": window.since,
                   "detectors": sections})


def _detectors_in(parts: dict[str, Any]) -> set[str]:
    found = {c["detector"] for c in parts["roc"].values()}
    for key in ("histograms", "daily", "coverage", "drift", "promotions"):
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
