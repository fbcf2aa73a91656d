"""What a threshold simulation reads: a model's fine score bins over a window (`evidence_bins`),
split into mature and immature days, with the cost settings. Reads the aggregates only: the same
few thousand rows per day whatever the volume."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, Date, bindparam, text
from sqlalchemy.orm import Session

from arbiter.domain.evidence import bin_low
from arbiter.domain.simulation import BinCounts, Costs
from arbiter.store import config_repo

_BINS = text("""
    SELECT bin, label, CASE WHEN day <= :mature THEN 1 ELSE 0 END AS mature, SUM(applications),
           SUM(amount), SUM(without_amount)
    FROM evidence_bins WHERE model_id = :model AND day >= :since
    GROUP BY bin, label, CASE WHEN day <= :mature THEN 1 ELSE 0 END""").bindparams(
    bindparam("mature", type_=Date()), bindparam("since", type_=Date()))
_DAYS = text("SELECT COUNT(DISTINCT day) FROM evidence_bins WHERE model_id = :model AND day >= :since").bindparams(
    bindparam("since", type_=Date()))
_SETTINGS = text("SELECT label_maturity_days, missed_fraud_cost, false_decline_cost FROM view_settings WHERE id = 1")


def view_costs(conn: Connection, review_cost: float = 0.0) -> tuple[Costs, float]:
    """The cost settings (`view_settings`, or their defaults) and the label maturity in days."""
    row = conn.execute(_SETTINGS).first()
    maturity, missed, false_decline = row if row else (config_repo.VIEW_DEFAULTS["label_maturity_days"],
                                                      config_repo.VIEW_DEFAULTS["missed_fraud_cost"],
                                                      config_repo.VIEW_DEFAULTS["false_decline_cost"])
    return Costs(float(missed), float(false_decline), review_cost), float(maturity)


def bin_counts(conn: Connection, model_id: str, since: date, maturity_days: float,
               now: datetime | None = None) -> BinCounts:
    """`model_id`'s bins from day `since` on; labels count on days at least `maturity_days` old."""
    mature = ((now or datetime.now(UTC)) - timedelta(days=maturity_days)).date()
    params = {"model": model_id, "since": since, "mature": mature}
    rows = [(int(b), str(label), bool(m), float(n), float(amount or 0.0), float(without or 0))
            for b, label, m, n, amount, without in conn.execute(_BINS, params)]
    return BinCounts.from_rows(rows, int(conn.execute(_DAYS, params).scalar() or 0))


DEFAULT_DAYS = 30  # the dashboard's simulator without a window: the last 30 days


def simulator_data(conn: Connection, detector: str | None, since: date | None) -> list[dict[str, Any]]:
    """Per champion: its non-empty fine bins over the window as columns (lower edge, applications,
    mature frauds and legitimate ones, fraud amounts), the days, the costs and the strategy in force:
    what the dashboard's sliders compute a strategy's figures from, as `domain.simulation` does."""
    costs, maturity = view_costs(conn)
    since = since or (datetime.now(UTC) - timedelta(days=DEFAULT_DAYS)).date()
    session = Session(bind=conn)
    out = []
    for model_id, name in conn.execute(text("SELECT id, detector FROM models WHERE status = 'champion'"
                                            + (" AND detector = :d" if detector else "") + " ORDER BY detector"),
                                       {"d": detector} if detector else {}):
        counts = bin_counts(conn, model_id, since, maturity)
        used = np.nonzero(counts.applications)[0]
        strategy = config_repo.strategy_in_force(session, name)
        out.append({"detector": name, "model_id": model_id, "since": since.isoformat(), "days": counts.days,
                    "costs": {"missed_fraud_cost": costs.missed_fraud_cost,
                              "false_decline_cost": costs.false_decline_cost},
                    "review_threshold": strategy.review_threshold, "decline_threshold": strategy.decline_threshold,
                    "bins": {"low": [bin_low(int(b)) for b in used],
                             **{name: getattr(counts, name)[used].tolist() for name in (
                                 "applications", "frauds", "legit", "fraud_amount", "fraud_without_amount")}}})
    session.close()
    return out
