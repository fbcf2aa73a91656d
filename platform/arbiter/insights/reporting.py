"""What the strategists look at, read from the views: `arbiter report` and the dashboard.

Every figure comes from the strategists' SQL views (`insights/views/`; or, for a period, from the same
SQL with a `:since` bound), so the terminal, the page and a strategist's own query agree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Date, DateTime, bindparam, text

from arbiter.bootstrap import Platform
from arbiter.domain.evidence import BACKTEST, recall_at_rate
from arbiter.insights.views import select_sql
from arbiter.store.dialect_sql import expand
from models.explain import label_of

ROC_BUCKETS = 200  # the ROC curve's thresholds: scores bucketed to 1/200, counted in SQL
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """`--since`: an ISO 8601 date or date-time (naive is UTC), or a span back from now (`7d`, `12h`, `30m`)."""
    now = now or datetime.now(UTC)
    relative = _RELATIVE.match(value)
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: float(relative.group(1))})
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--since {value!r} is neither an ISO 8601 date/time nor a span like 7d, 12h or 30m"
                         ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class Window:
    """Which detector(s) and since when; `None` means everything."""

    detector: str | None = None
    since: datetime | None = None

    @property
    def since_day(self) -> date | None:
        return self.since.astimezone(UTC).date() if self.since else None


@dataclass
class DetectorReport:
    """One detector's champion and its challengers over a window."""

    detector: str
    champion: dict[str, Any] | None
    challengers: list[dict[str, Any]] = field(default_factory=list)


def _rows(conn: Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    statement = text(sql)
    for name, value in params.items():  # typed, so SQLite compares them in its stored format
        if isinstance(value, datetime):
            statement = statement.bindparams(bindparam(name, type_=DateTime(timezone=True)))
        elif isinstance(value, date):
            statement = statement.bindparams(bindparam(name, type_=Date()))
    return [dict(r) for r in conn.execute(statement, params).mappings()]


def _where(window: Window, *, day: str | None = None, detector: str = "detector") -> tuple[str, dict[str, Any]]:
    clauses, params = ["1 = 1"], {}
    if window.detector:
        clauses.append(f"{detector} = :detector")
        params["detector"] = window.detector
    if window.since and day:
        clauses.append(f"{day} >= :since_day")
        params["since_day"] = window.since_day
    return " AND ".join(clauses), params


def champions(conn: Connection, window: Window) -> list[dict[str, Any]]:
    """Per detector, the model deciding now and its volume and decision rates in the window (whole
    days: the evidence aggregates)."""
    where, params = _where(Window(window.detector), detector="m.detector")
    since = "e.day >= :since_day" if window.since else "1 = 1"
    if window.since:
        params["since_day"] = window.since_day
    return _rows(conn, f"""
        SELECT m.detector, m.id AS model_id, m.name, m.version, m.recipe,
               COALESCE(SUM(e.applications), 0) AS decided,
               1.0 * SUM(CASE WHEN e.decision = 'approve' THEN e.applications ELSE 0 END)
                 / NULLIF(SUM(e.applications), 0) AS approve_rate,
               1.0 * SUM(CASE WHEN e.decision = 'review' THEN e.applications ELSE 0 END)
                 / NULLIF(SUM(e.applications), 0) AS review_rate,
               1.0 * SUM(CASE WHEN e.decision = 'decline' THEN e.applications ELSE 0 END)
                 / NULLIF(SUM(e.applications), 0) AS decline_rate,
               COALESCE(SUM(CASE WHEN e.label <> 'none' THEN e.applications ELSE 0 END), 0) AS labelled
        FROM models m
        LEFT JOIN evidence_decisions e ON e.model_id = m.id AND {since}
        WHERE m.status = 'champion' AND {where}
        GROUP BY m.detector, m.id, m.name, m.version, m.recipe ORDER BY m.detector""", **params)


def comparison(conn: Connection, dialect: str, window: Window) -> list[dict[str, Any]]:
    """`champion_challenger_comparison` over the window, with each challenger's name and status (a
    backtest, counted as `<id>~backtest`: status `backtest`)."""
    body = select_sql("champion_challenger_comparison", dialect, since=window.since is not None)
    where, params = _where(window, detector="c.detector")
    if window.since:
        params["since"] = window.since_day  # the aggregates count whole days
    return _rows(conn, f"""
        SELECT c.*, m.name AS challenger_name, m.version AS challenger_version, m.recipe AS challenger_recipe,
               CASE WHEN c.challenger_id = m.id THEN m.status ELSE 'backtest' END AS challenger_status
        FROM ({body}) c JOIN models m ON m.id = c.challenger_id OR c.challenger_id = m.id || '{BACKTEST}'
        WHERE {where} ORDER BY c.detector, c.auc_delta DESC, c.challenger_id""", **params)


def swap_sets(conn: Connection, dialect: str, window: Window) -> list[dict[str, Any]]:
    """`swap_sets` over the window."""
    body = select_sql("swap_sets", dialect, since=window.since is not None)
    where, params = _where(window, detector="s.detector")
    if window.since:
        params["since"] = window.since_day
    return _rows(conn, f"SELECT s.* FROM ({body}) s WHERE {where} ORDER BY s.challenger_id, s.swap", **params)


def segments(conn: Connection, dialect: str, window: Window, dimension: str) -> list[dict[str, Any]]:
    """`model_segments` over the window for one dimension (channel, amount_band, age_band, region)."""
    body = select_sql("model_segments", dialect, since=window.since is not None)
    where, params = _where(window, detector="s.detector")
    if window.since:
        params["since"] = window.since_day
    return _rows(conn, f"SELECT s.* FROM ({body}) s WHERE s.dimension = :dimension AND {where} "
                       "ORDER BY s.detector, s.model_id, s.segment", dimension=dimension, **params)


def fairness(conn: Connection, window: Window) -> list[dict[str, Any]]:
    """`model_fairness` over the window."""
    body = select_sql("model_fairness", conn.dialect.name, since=window.since is not None)
    where, params = _where(window, detector="f.detector")
    if window.since:
        params["since"] = window.since_day
    return _rows(conn, f"SELECT f.* FROM ({body}) f WHERE {where} ORDER BY f.detector, f.model_id, f.dimension, "
                       "f.segment", **params)


REASON_DAYS = 14  # the dashboard's reasons per day: the latest days of the window
ADVERSE = ("decline", "review")  # the decisions a person has to read reasons for


def top_reasons(conn: Connection, window: Window, top: int = 3) -> list[dict[str, Any]]:
    """Per model, the inputs its declines and reviews named most over the window (`model_reasons`),
    and per day of the latest `REASON_DAYS` its `top` ones: [{model_id, detector, overall, days}]."""
    body = select_sql("model_reasons", conn.dialect.name, since=window.since is not None)
    where, params = _where(window, detector="r.detector")
    if window.since:
        params["since"] = window.since_day
    rows = _rows(conn, f"SELECT r.model_id, r.detector, r.day, r.decision, r.feature, r.applications, r.named_first, "
                       f"r.mean_contribution, r.decisions FROM ({body}) r WHERE {where} "
                       f"AND r.decision IN ('decline', 'review')", **params)
    models: dict[str, dict[str, Any]] = {}
    for r in rows:
        model = models.setdefault(r["model_id"], {"detector": r["detector"], "features": {}, "days": {},
                                                  "decisions": {}, "day_decisions": {}})
        day = str(r["day"])
        for bucket in (model["features"], model["days"].setdefault(day, {})):
            n, first, total = bucket.get(r["feature"], (0, 0, 0.0))
            bucket[r["feature"]] = (n + int(r["applications"]), first + int(r["named_first"]),
                                    total + float(r["mean_contribution"]) * int(r["applications"]))
        model["day_decisions"][(day, r["decision"])] = int(r["decisions"] or 0)
    out = []
    for model_id, model in sorted(models.items()):
        per_day = {}
        for (day, _), n in model["day_decisions"].items():
            per_day[day] = per_day.get(day, 0) + n
        decided = sum(per_day.values())
        latest = sorted(model["days"], reverse=True)[:REASON_DAYS]
        out.append({"model_id": model_id, "detector": model["detector"], "decisions": decided,
                    "overall": _ranked(model["features"], decided, top + 2),
                    "days": [{"day": day, "decisions": per_day.get(day, 0),
                              "reasons": _ranked(model["days"][day], per_day.get(day, 0), top)} for day in latest]})
    return out


def _ranked(features: dict[str, tuple[int, int, float]], decided: int, top: int) -> list[dict[str, Any]]:
    ranked = sorted(features.items(), key=lambda item: (-item[1][0], item[0]))[:top]
    return [{"feature": f, "label": label_of(f), "named": n, "named_first": first,
             "share": n / decided if decided else None, "mean_contribution": total / n if n else None}
            for f, (n, first, total) in ranked]


def disagreements(conn: Connection, window: Window, top: int = 3) -> list[dict[str, Any]]:
    """Per challenger and champion, each pair of differing decisions over the window: how many
    applications, and the inputs each side's explanations named most on them (`model_disagreements`)."""
    body = select_sql("model_disagreements", conn.dialect.name, since=window.since is not None)
    where, params = _where(window, detector="w.detector")
    pair_where, pair_params = _where(window, day="day")
    if window.since:
        params["since"] = window.since_day
    counts = {(r["challenger_id"], r["champion_id"], r["challenger_decision"], r["champion_decision"]):
              (int(r["applications"]), r["detector"]) for r in _rows(conn, f"""
        SELECT challenger_id, champion_id, challenger_decision, champion_decision, MIN(detector) AS detector,
               SUM(applications) AS applications
        FROM evidence_pairs WHERE challenger_decision <> champion_decision AND {pair_where}
        GROUP BY challenger_id, champion_id, challenger_decision, champion_decision""", **pair_params)}
    why: dict[tuple, dict[str, Any]] = {}
    for r in _rows(conn, f"SELECT w.challenger_id, w.champion_id, w.detector, w.challenger_decision, "
                         f"w.champion_decision, w.side, w.feature, SUM(w.named) AS named, "
                         f"SUM(w.mean_contribution * w.named) AS contribution FROM ({body}) w WHERE {where} "
                         f"GROUP BY w.challenger_id, w.champion_id, w.detector, w.challenger_decision, "
                         f"w.champion_decision, w.side, w.feature", **params):
        key = (r["challenger_id"], r["champion_id"], r["challenger_decision"], r["champion_decision"])
        entry = why.setdefault(key, {"detector": r["detector"], "challenger": {}, "champion": {}})
        entry[r["side"]][r["feature"]] = (int(r["named"]), 0, float(r["contribution"] or 0.0))
    out = []
    for key in sorted(set(counts) | set(why)):
        n, detector = counts.get(key, (0, None))
        entry = why.get(key, {"detector": detector, "challenger": {}, "champion": {}})
        out.append({"challenger_id": key[0], "champion_id": key[1], "challenger_decision": key[2],
                    "champion_decision": key[3], "detector": entry["detector"] or detector, "applications": n,
                    "challenger_reasons": _ranked(entry["challenger"], n, top),
                    "champion_reasons": _ranked(entry["champion"], n, top)})
    return sorted(out, key=lambda r: (-r["applications"], r["challenger_id"]))


_MATURE_DAY = "day <= DAY_OF(MATURE_BEFORE((SELECT label_maturity_days FROM view_settings WHERE id = 1)))"


def recalls_at_champion_rate(conn: Connection, dialect: str, window: Window) -> dict[tuple[str, str], dict]:
    """Per (challenger, champion): on the mature labelled applications both scored, the champion's
    decline rate and each model's recall when declining that share of them (from the fine bins)."""
    where, params = _where(window, day="day")
    mature = expand(_MATURE_DAY, dialect)
    rates = {(x, y): (float(d) / float(n) if n else None) for x, y, d, n in conn.execute(text(f"""
        SELECT challenger_id, champion_id,
               SUM(CASE WHEN champion_decision = 'decline' THEN applications ELSE 0 END), SUM(applications)
        FROM evidence_pairs WHERE label <> 'none' AND {mature} AND {where}
        GROUP BY challenger_id, champion_id"""), params)}
    bins: dict[tuple[str, str, str], dict[int, tuple[int, int]]] = {}
    for x, y, side, b, label, n in conn.execute(text(f"""
            SELECT challenger_id, champion_id, side, bin, label, SUM(applications) FROM evidence_pair_bins
            WHERE label <> 'none' AND {mature} AND {where}
            GROUP BY challenger_id, champion_id, side, bin, label"""), params):
        counts = bins.setdefault((x, y, side), {})
        p, q = counts.get(int(b), (0, 0))
        counts[int(b)] = (p + int(n), q) if label == "fraud" else (p, q + int(n))
    found = {}
    for (x, y), rate in rates.items():
        found[(x, y)] = {"champion_decline_rate": rate, **{
            f"{side}_recall": (recall_at_rate(bins.get((x, y, side), {}), rate) if rate is not None else None)
            for side in ("challenger", "champion")}}
    return found


def comparison_report(platform: Platform, window: Window) -> list[DetectorReport]:
    """The use case behind `arbiter report` (and the demo's closing report)."""
    with platform.engine.connect() as conn:
        return report(conn, platform.engine.dialect.name, window)


def report(conn: Connection, dialect: str, window: Window) -> list[DetectorReport]:
    """The champion of each detector against each challenger that shadowed it (in the window)."""
    by_detector: dict[str, DetectorReport] = {}
    for champion in champions(conn, window):
        by_detector[champion["detector"]] = DetectorReport(champion["detector"], champion)
    swaps: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for s in swap_sets(conn, dialect, window):
        swaps.setdefault((s["challenger_id"], s["champion_id"]), []).append(s)
    recalls = recalls_at_champion_rate(conn, dialect, window)
    for row in comparison(conn, dialect, window):
        entry = by_detector.setdefault(row["detector"], DetectorReport(row["detector"], None))
        pair = (row["challenger_id"], row["champion_id"])
        entry.challengers.append({**row, "swap_sets": swaps.get(pair, []),
                                  **recalls.get(pair, {"champion_decline_rate": None, "challenger_recall": None,
                                                       "champion_recall": None})})
    return [by_detector[name] for name in sorted(by_detector)]


def coverage(conn: Connection, window: Window) -> list[dict[str, Any]]:
    where, params = _where(window)
    return _rows(conn, f"SELECT * FROM shadow_coverage WHERE {where} ORDER BY detector, model_id", **params)


def daily_performance(conn: Connection, window: Window) -> list[dict[str, Any]]:
    where, params = _where(window, day="day")
    return _rows(conn, f"SELECT * FROM model_daily_performance WHERE {where} ORDER BY model_id, day", **params)


def score_histograms(conn: Connection, window: Window) -> list[dict[str, Any]]:
    """Per model, the twenty bins of `score_distribution` summed over the window's days."""
    where, params = _where(window, day="day")
    return _rows(conn, f"""
        SELECT model_id, MIN(detector) AS detector, bin, SUM(applications) AS applications,
               SUM(frauds) AS frauds, SUM(non_frauds) AS non_frauds
        FROM score_distribution WHERE {where} GROUP BY model_id, bin ORDER BY model_id, bin""", **params)


def latest_drift(conn: Connection, window: Window) -> list[dict[str, Any]]:
    """Each model's `model_drift` rows of the latest day it has."""
    where, params = _where(window, day="day")
    return _rows(conn, f"""
        SELECT d.* FROM model_drift d
        JOIN (SELECT model_id, MAX(day) AS day FROM model_drift WHERE {where} GROUP BY model_id) latest
          ON latest.model_id = d.model_id AND latest.day = d.day
        ORDER BY d.detector, d.model_id, d.kind DESC, d.psi DESC""", **params)


def promotions(conn: Connection, window: Window, limit: int = 50) -> list[dict[str, Any]]:
    """The latest promotions and rollbacks, each with its gates' verdicts, figures and details."""
    where, params = _where(window)
    rows = _rows(conn, f"""
        SELECT id, detector, action, model_id, previous_model_id, accepted, forced, actor, reason, created_at, gates,
               reviewed_by, status, decided_by
        FROM promotions WHERE {where} ORDER BY created_at DESC, id DESC LIMIT {int(limit)}""", **params)
    for row in rows:  # a JSON column reads back as text through a plain statement on SQLite
        if isinstance(row["gates"], str):
            row["gates"] = json.loads(row["gates"])
    return rows


def governance(conn: Connection, audit_limit: int = 30) -> dict[str, list[dict[str, Any]]]:
    """What waits for a decision (models to review, promotion requests, strategy and rules
    proposals) and the latest events of the audit trail."""
    return {
        "reviews": _rows(conn, "SELECT id, detector, recipe, registered_by, registered_at FROM models "
                               "WHERE review IS NULL AND status = 'registered' ORDER BY registered_at"),
        "requests": _rows(conn, "SELECT id, detector, model_id, actor, reason, created_at FROM promotions "
                                "WHERE status = 'pending' ORDER BY id"),
        "proposals": _rows(conn, "SELECT id, kind, detector, model_id, proposed_by, proposed_at, note FROM proposals "
                                 "WHERE status = 'pending' ORDER BY id"),
        "audit": _rows(conn, f"SELECT id, at, actor, action, subject FROM audit_events ORDER BY id DESC "
                             f"LIMIT {int(audit_limit)}"),
    }


def roc_curves(conn: Connection, window: Window) -> dict[str, dict[str, Any]]:
    """Per model, its ROC curve on the labelled applications of mature days, from the evidence
    aggregates: fine bins gathered into 1/ROC_BUCKETS of the score by their lower edge,
    thresholds swept from the top bucket down."""
    where, params = _where(window, day="b.day", detector="b.detector")
    counts = _rows(conn, f"""
        SELECT b.model_id, MIN(b.detector) AS detector,
               CASE WHEN e.low >= 1 THEN {ROC_BUCKETS - 1} ELSE CAST(FLOOR(e.low * {ROC_BUCKETS}) AS INTEGER)
               END AS bucket,
               SUM(CASE WHEN b.label = 'fraud' THEN b.applications ELSE 0 END) AS positives,
               SUM(CASE WHEN b.label = 'legit' THEN b.applications ELSE 0 END) AS negatives
        FROM evidence_bins b JOIN evidence_bin_edges e ON e.bin = b.bin
        WHERE {where} AND b.label <> 'none' AND b.day <= :mature_day
        GROUP BY b.model_id, bucket""", **params, mature_day=_mature_before(conn).date())
    curves: dict[str, dict[str, Any]] = {}
    for row in counts:
        if row["positives"] or row["negatives"]:
            entry = curves.setdefault(row["model_id"], {"detector": row["detector"], "buckets": {}})
            entry["buckets"][int(row["bucket"])] = (int(row["positives"]), int(row["negatives"]))
    return {model_id: _sweep(entry["detector"], entry["buckets"]) for model_id, entry in curves.items()}


def _mature_before(conn: Connection) -> datetime:
    days = conn.execute(text("SELECT label_maturity_days FROM view_settings WHERE id = 1")).scalar() or 0.0
    return datetime.now(UTC) - timedelta(days=float(days))


def _sweep(detector: str, buckets: dict[int, tuple[int, int]]) -> dict[str, Any]:
    positives = sum(p for p, _ in buckets.values())
    negatives = sum(n for _, n in buckets.values())
    fpr, tpr, thresholds, tp, fp = [0.0], [0.0], [1.0], 0, 0
    for bucket in sorted(buckets, reverse=True):
        p, n = buckets[bucket]
        tp, fp = tp + p, fp + n
        fpr.append(fp / negatives if negatives else 0.0)
        tpr.append(tp / positives if positives else 0.0)
        thresholds.append(bucket / ROC_BUCKETS)
    return {"detector": detector, "positives": positives, "negatives": negatives,
            "fpr": fpr, "tpr": tpr, "threshold": thresholds}
