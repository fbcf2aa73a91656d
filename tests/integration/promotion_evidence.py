"""Evidence for promotion tests, written as the shadow path writes it: a second transactions model
in shadow mode, its scores and the champion's decisions on the same applications, their labels,
and evidence minimums sized for these few rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from arbiter.bootstrap import Platform
from arbiter.governance.registry import register_bundle
from arbiter.insights.evidence import rebuild
from arbiter.store import tables


def add_shadow_scores(platform: Platform, challenger: str, n: int, *, good: bool, age_days: float = 60,
                       prefix: str = "ev") -> None:
    """A challenger's shadow scores, as the shadow path will record them: perfectly right or wrong, each
    with its application's arrival (`age_days` ago, as `add_champion_decisions_and_labels` stores them)."""
    now = datetime.now(UTC)
    with platform.sessions() as session, session.begin():
        session.query(tables.ShadowScore).filter(tables.ShadowScore.model_id == challenger,
                                                 tables.ShadowScore.application_id.like(f"{prefix}-%")).delete()
        for i in range(n):
            fraud = i % 4 == 0
            score = (0.95 if fraud else 0.05) if good else (0.05 if fraud else 0.95)
            session.add(tables.ShadowScore(application_id=f"{prefix}-{i}", model_id=challenger,
                                           detector="card-transactions", score=score, decision="approve",
                                           strategy_version=1, scored_at=now,
                                           received_at=now - timedelta(days=age_days)))
    rebuild(platform)  # rows written by hand: the evidence the gates read is recounted from them


def add_champion_decisions_and_labels(platform: Platform, champion: str, n: int, *, age_days: float = 60,
                                       prefix: str = "ev") -> None:
    """The champion's decisions on the same applications (it ranks them perfectly too) and their labels,
    the applications received `age_days` ago (past the 30 days' label maturity by default)."""
    now = datetime.now(UTC)
    with platform.sessions() as session, session.begin():
        for i in range(n):
            fraud = i % 4 == 0
            session.add(tables.Application(application_id=f"{prefix}-{i}", detector="card-transactions",
                                           received_at=now - timedelta(days=age_days), payload={}))
            session.add(tables.Decision(application_id=f"{prefix}-{i}", detector="card-transactions", model_id=champion,
                                        score=0.6 if fraud else 0.4, decision="approve", reasons=[],
                                        strategy_version=1, rules_version=1,
                                        decided_at=now - timedelta(days=age_days)))  # the arrival, as recorded
            session.add(tables.Outcome(application_id=f"{prefix}-{i}", is_fraud=fraud, observed_at=now))
    rebuild(platform)


def second_model(platform: Platform, rf_bundle: Path, tmp_path: Path, *, shadow_days: float = 61) -> str:
    """Another transactions model, in shadow mode since `shadow_days` ago (its window opened by hand:
    the rows these tests write are the shadow path's)."""
    from tests.helpers import copy_bundle, edit_manifest

    other = copy_bundle(rf_bundle, tmp_path / "rf2")
    edit_manifest(other, created_at="2031-01-01T00:00:00Z")
    model_id = register_bundle(platform, other).model.id
    with platform.sessions() as session, session.begin():
        session.execute(update(tables.Model).where(tables.Model.id == model_id).values(
            status="shadow", shadow_started_at=datetime.now(UTC) - timedelta(days=shadow_days)))
    return model_id


def small_bank(platform: Platform) -> None:
    """Evidence minimums for the 40 applications these tests write: 40 labelled, 10 frauds."""
    platform.settings.promotion_min_shadow = 40
    platform.settings.promotion_min_labelled = 40
    platform.settings.promotion_min_frauds = 10
