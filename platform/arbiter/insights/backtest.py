"""Backtests: a registered model scored on stored applications, in batches, apart from the shadow
scores (`backtest_scores`), counted in the evidence under the model id `<id>~backtest` with the
decision on record as its pair, so every comparison (views, report, swap sets, dashboard) shows it,
marked. Resumable: a run continues after the last application it stored for the model; each batch
is one transaction (scores and their evidence together), so a run stopped anywhere loses nothing
and counts nothing twice.

A stored application keeps its PII as keyed hashes; the features derived from PII (an e-mail's
domain, the zip-to-IP distance, the age, identity reuse) are computed from the derivations recorded
with it (`applications.derived`, `arbiter.domain.derivations`), so a backtest reproduces serving for
every recipe on both detectors. Refused: a model whose features cannot be computed from them
(`FeatureBuilder.unreproducible`: bundles whose features predate whole-year ages, or whose reuse
tables carry a key of their own). Skipped and counted: applications stored before derivations were
recorded, and any the detector's validation no longer accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from arbiter.bootstrap import Platform
from arbiter.domain.derivations import HASHED_TRANSFORMS
from arbiter.domain.errors import Conflict, NotFound
from arbiter.domain.evidence import Deltas, Scored, backtest_id, day_of, reasons_of
from arbiter.domain.pii import PiiHasher
from arbiter.store import config_repo, tables
from arbiter.store.evidence_repo import count_scores, lock_evidence
from arbiter.store.models_repo import load_registered
from arbiter.store.records_repo import applications_page, insert_ignoring_duplicates
from models.detectors import DETECTORS
from models.explain import as_pairs
from models.features import FeatureBuilder, pii_derived
from models.schema import Detector
from models.segments import stored_segments
from models.validation import validate_record

BATCH = 2_000
UNSEEN = "\x00unseen"  # a hashed domain none of the model's levels hashes to: no level's column set


@dataclass
class BacktestResult:
    model_id: str
    scored: int = 0
    skipped: int = 0  # stored applications the detector's validation no longer accepts
    unrecorded: int = 0  # stored before derivations were recorded (detectors with PII)
    resumed_from: datetime | None = None
    seconds: float = 0.0


def stored_records(detector: Detector, rows: Sequence[Any], levels: Mapping[str, dict[str, str]]
                   ) -> tuple[list[dict[str, Any]], list[Any], int, int]:
    """The records a model scores for stored applications `rows` (payload, PII as keyed hashes, plus the
    recorded derivations, hashed domains mapped back to the model's levels by `levels`), the rows kept,
    and how many were skipped as unrecorded (no derivations) and invalid."""
    derived_names = [spec.name for spec in pii_derived(detector)]
    hashed = frozenset(detector.pii_fields)
    records, kept, unrecorded, invalid = [], [], 0, 0
    for row in rows:
        if derived_names and row.derived is None:
            unrecorded += 1
            continue
        clean, problems = validate_record(detector, row.payload or {}, hashed=hashed)
        if problems:
            invalid += 1
            continue
        for name in derived_names:
            value = row.derived.get(name)
            clean[name] = levels[name].get(value, UNSEEN) if name in levels and value is not None else value
        records.append(clean)
        kept.append(row)
    return records, kept, unrecorded, invalid


def hashed_levels(features: FeatureBuilder, hasher: PiiHasher) -> dict[str, dict[str, str]]:
    """Per derived feature recorded as a keyed hash: the hash of each of the model's levels -> the level."""
    hashed = {spec.name: spec.transform for spec in pii_derived(features.detector)
              if spec.transform in HASHED_TRANSFORMS}
    return {spec["name"]: {hasher.digest(hashed[spec["name"]], level): level for level in spec["levels"]}
            for spec in features.categorical if spec["name"] in hashed}


def run_backtest(platform: Platform, model_id: str, since: datetime, *, batch: int = BATCH,
                 progress: Callable[[int, int], None] | None = None) -> BacktestResult:
    """Score `model_id` on its detector's applications received from `since` on; `progress(done, total)`."""
    import time

    started = time.perf_counter()
    with platform.sessions() as session:
        model = session.get(tables.Model, model_id)
        if model is None:
            raise NotFound(f"no model {model_id!r}")
        runtime = load_registered(platform.settings.registry_dir, model, platform.identity_key)
        why = runtime.features.unreproducible(platform.identity_key)
        if why:
            raise Conflict(f"{model_id} cannot be backtested: {'; '.join(why)}")
        strategy = config_repo.model_strategy_in_force(session, model)
        detector = DETECTORS[model.detector]
        cursor = _resume_point(session, model_id, since)
        a = tables.Application
        total = session.scalar(select(func.count()).select_from(a).where(
            a.detector == detector.name, a.received_at >= since)) or 0
        done = session.scalar(select(func.count()).select_from(tables.BacktestScore).where(
            tables.BacktestScore.model_id == model_id, tables.BacktestScore.received_at >= since)) or 0
    result = BacktestResult(model_id, resumed_from=cursor[0] if cursor[1] else None)
    top = platform.settings.top_reasons(detector.name)
    levels = hashed_levels(runtime.features, platform.hasher)
    while True:
        with platform.sessions() as session, session.begin():
            rows = session.execute(applications_page(
                select(a.application_id, a.received_at, a.payload, a.derived, a.amount, a.segments),
                detector.name, since, cursor, batch)).all()
            if not rows:
                break
            cursor = (rows[-1].received_at, rows[-1].application_id)
            records, kept, unrecorded, invalid = stored_records(detector, rows, levels)
            result.unrecorded += unrecorded
            result.skipped += invalid
            if records:
                scores, explained = runtime.score_and_explain(records, top)
                _store(session, model, strategy, kept, scores, explained, platform.settings.evidence)
                result.scored += len(records)
        done += len(rows)
        if progress:
            progress(min(done, total), total)
    result.seconds = time.perf_counter() - started
    return result


def _resume_point(session: Any, model_id: str, since: datetime) -> tuple[datetime, str]:
    """After the last application this model's backtest stored from `since` on (or `since` itself)."""
    b = tables.BacktestScore
    last = session.execute(select(b.received_at, b.application_id).where(b.model_id == model_id,
                                                                         b.received_at >= since)
                           .order_by(b.received_at.desc(), b.application_id.desc()).limit(1)).first()
    return (last.received_at, last.application_id) if last else (since, "")


def _store(session: Any, model: tables.Model, strategy: Any, rows: list[Any], scores: Any, explained: Any,
           evidence: bool) -> None:
    now = datetime.now(UTC)
    stored = [{"application_id": row.application_id, "model_id": model.id, "detector": model.detector,
               "score": float(score), "decision": strategy.decide(float(score)), "strategy_version": strategy.version,
               "received_at": row.received_at, "scored_at": now,
               "explanation": as_pairs(explained[i]) if explained is not None else None}
              for i, (row, score) in enumerate(zip(rows, scores, strict=True))]
    if evidence:
        lock_evidence(session)
    inserted = {key[0] for key in insert_ignoring_duplicates(session, tables.BacktestScore.__table__, stored)}
    if not evidence or not inserted:
        return
    by_id = {row.application_id: row for row in rows}
    d = tables.Decision
    champion = {app_id: (m, s, dec, why) for app_id, m, s, dec, why in session.execute(
        select(d.application_id, d.model_id, d.score, d.decision, d.explanation).where(
            d.application_id.in_(list(inserted)), d.model_id.is_not(None), d.score.is_not(None)))}
    scored, pairs = [], []
    for row in stored:
        if row["application_id"] not in inserted:
            continue
        app = by_id[row["application_id"]]
        day, segments = day_of(app.received_at), stored_segments(app.segments, app.amount)
        mine = Scored(backtest_id(model.id), model.detector, day, row["score"], row["decision"], app.amount,
                      row["application_id"], segments, reasons_of(row["explanation"]))
        scored.append(mine)
        if row["application_id"] in champion:
            m, s, dec, why = champion[row["application_id"]]
            pairs.append((mine, Scored(m, model.detector, day, float(s), dec, app.amount, row["application_id"],
                                       reasons=reasons_of(why))))
    count_scores(session, scored, pairs, Deltas())
