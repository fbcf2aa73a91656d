"""Rows for the strategists' views, written straight into the tables (the views are what is tested)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert, update

from arbiter.store import tables
from models.drift import reference_rows

OLD = datetime(2026, 1, 10, 12, tzinfo=UTC)  # far older than the 30-day maturity window


def add_model(conn: Connection, model_id: str, status: str = "shadow", recipe: str = "rf",
              detector: str = "card-transactions") -> None:
    conn.execute(insert(tables.Model).values(
        id=model_id, detector=detector, name=model_id, version=1, flavour="sklearn", recipe=recipe,
        runtime="onnx", sha256=model_id.ljust(64, "0"), status=status, location="x", metrics={}, certification={},
        manifest={}, registered_at=OLD, registered_by="test", status_changed_at=OLD))


def add_scores(conn: Connection, model_id: str, rows: list[tuple[str, datetime, float, str, bool | None, float | None]],
               payloads: list[dict] | None = None) -> None:
    """Applications (id, received, score, decision, label, amount) with `model_id`'s shadow scores."""
    for i, (app_id, at, score, decision, label, amount) in enumerate(rows):
        conn.execute(insert(tables.Application).values(application_id=app_id, detector="card-transactions",
                                                        received_at=at, payload=payloads[i] if payloads else {},
                                                        amount=amount))
        conn.execute(insert(tables.ShadowScore).values(application_id=app_id, model_id=model_id,
                                                       detector="card-transactions", score=score, decision=decision,
                                                       strategy_version=1, published_at=at, scored_at=at,
                                                       received_at=at))
        if label is not None:
            conn.execute(insert(tables.Outcome).values(application_id=app_id, is_fraud=label, observed_at=at,
                                                       recorded_at=at, revision=1, source="test"))


def decide(score: float) -> str:
    return "decline" if score >= 0.8 else "review" if score >= 0.5 else "approve"


@dataclass
class Seeded:
    labels: list[bool]
    champion: list[float]
    challengers: dict[str, list[float]]
    days: list[datetime]


def seed_champion_and_challengers(conn: Connection, n: int = 400, seed: int = 9) -> Seeded:
    """A champion `m-champ` (decisions) and challengers `m-good`, `m-weak` (shadow scores) on the same
    `n` labelled applications over three old days, plus a promotion on record."""
    rng = random.Random(seed)
    labels = [rng.random() < 0.25 for _ in range(n)]
    champion = [round(min(1.0, max(0.0, rng.gauss(0.62 if y else 0.4, 0.2))), 2) for y in labels]
    challengers = {"m-good": [round(min(1.0, max(0.0, rng.gauss(0.75 if y else 0.35, 0.2))), 2) for y in labels],
                   "m-weak": [round(min(1.0, max(0.0, rng.gauss(0.5 if y else 0.45, 0.25))), 2) for y in labels]}
    days = [OLD + timedelta(days=i % 3) for i in range(n)]
    add_model(conn, "m-champ", status="champion")
    for model_id, scores in challengers.items():
        add_model(conn, model_id, recipe="hgb" if model_id == "m-good" else "logreg")
        rows = [(f"p{i}", days[i], s, decide(s), None, 50.0) for i, s in enumerate(scores)]
        if model_id == "m-good":
            add_scores(conn, model_id, rows, payloads=[{"V14": rng.gauss(0, 1)} for _ in rows])
        else:
            conn.execute(insert(tables.ShadowScore), [
                {"application_id": a, "model_id": model_id, "detector": "card-transactions", "score": s,
                 "decision": d, "strategy_version": 1, "published_at": at, "scored_at": at, "received_at": at,
                 "explanation": [["V4", round(s / 2, 3)], ["Amount", round(s / 4, 3)]]}
                for a, at, s, d, _, _ in rows])
    conn.execute(insert(tables.Outcome), [
        {"application_id": f"p{i}", "is_fraud": y, "observed_at": days[i], "recorded_at": days[i], "revision": 1,
         "source": "test"} for i, y in enumerate(labels)])
    conn.execute(insert(tables.Decision), [
        {"application_id": f"p{i}", "detector": "card-transactions", "model_id": "m-champ", "score": s,
         "decision": decide(s), "reasons": [], "strategy_version": 1, "rules_version": 1, "decided_at": days[i],
         "explanation": [["V14", round(s / 2, 3)], ["V4", round(s / 5, 3)]]}
        for i, s in enumerate(champion)])
    conn.execute(update(tables.Model).where(tables.Model.id.in_(list(challengers)))
                 .values(shadow_started_at=OLD - timedelta(days=1)))
    conn.execute(insert(tables.Promotion).values(
        detector="card-transactions", action="promote", model_id="m-champ", previous_model_id=None, accepted=True,
        forced=True, gates={}, actor="test", reason="first champion", created_at=OLD))
    reference = {"score": {"bin_edges": [0.0, 0.5, 1.0], "bin_share": [0.5, 0.5]},
                 "features": [{"name": "V14", "bin_edges": [-3.0, 0.0, 3.0], "bin_share": [0.5, 0.5]}]}
    conn.execute(insert(tables.ModelReferenceBin), [{"model_id": "m-good", **r} for r in reference_rows(reference)])
    return Seeded(labels, champion, challengers, days)
