"""Writing the evidence aggregates: serialising labels with scores, and adding deltas.

Whoever stores a fact about an application (its score, its label) counts it in the aggregates in
the same transaction, after `lock_evidence`: a score stored while its label arrives is then
counted under the right label exactly once, because the transaction that comes second sees the
first one's rows. Scores never depend on each other, only on labels, so on Postgres score
writers share one transaction-scoped advisory lock and never wait for one another, and a label
writer takes it alone: it waits for the scores being stored, and new ones wait for it (labels are
stored a short chunk per transaction). One lock per transaction, whatever the batch: grouped
messages can carry thousands of applications. SQLite has one writer at a time; taking the write
lock before reading is enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, Select, Table, and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from arbiter.domain.evidence import (
    BINS,
    EDGES,
    UNLABELLED,
    Deltas,
    DriftReference,
    Scored,
    backtest_id,
    bin_low,
    coarse_bin,
    day_of,
    label_state,
)
from arbiter.store import tables
from models.segments import stored_segments

if TYPE_CHECKING:
    import pandas as pd

VALUES = {
    "evidence_decisions": ("applications", "amount", "without_amount"),
    "evidence_bins": ("applications", "amount", "without_amount"),
    "evidence_pairs": ("applications", "amount", "without_amount", "sum_x", "sum_y", "sum_xx", "sum_yy", "sum_xy"),
    "evidence_pair_bins": ("applications",),
    "evidence_pair_cells": ("applications",),
    "evidence_arrivals": ("applications",),
    "evidence_shadow_hours": ("scored",),
    "evidence_drift": ("applications",),
    "evidence_segments": ("applications", "amount"),
    "evidence_reasons": ("applications", "first", "contribution"),
    "evidence_pair_reasons": ("applications", "contribution"),
}
MAXIMA = {"evidence_shadow_hours": ("last_received_at", "last_scored_at")}  # kept as the greatest, not summed
LOCK_KEY = 0x6172_6269_7465_72  # "arbiter": the evidence writers' advisory lock
_SHARED = text(f"SELECT pg_advisory_xact_lock_shared({LOCK_KEY})")
_ALONE = text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")


def lock_evidence(session: Session, *, labels: bool = False) -> None:
    """Serialise this transaction with those that store labels (`labels`: with every other writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_ALONE if labels else _SHARED)
    else:
        session.execute(update(tables.EvidenceLock).where(tables.EvidenceLock.id == 1).values(id=1))


def seed_bin_edges(session: Session) -> None:
    """`evidence_bin_edges` as the code bins scores (written once; rewritten if it ever differs)."""
    rows = [{"bin": b, "low": bin_low(b), "high": float(EDGES[b]) if b < len(EDGES) else None,
             "coarse": coarse_bin(b)} for b in range(BINS)]
    stored = session.scalar(select(func.count()).select_from(tables.EvidenceBinEdge))
    last = session.get(tables.EvidenceBinEdge, BINS - 2)
    if stored == BINS and last is not None and last.high == rows[-2]["high"]:
        return
    session.execute(delete(tables.EvidenceBinEdge))
    session.execute(insert(tables.EvidenceBinEdge), rows)


def apply(session: Session, deltas: Deltas) -> None:
    """Add `deltas` to the aggregates: one upsert per table, rows in key order (so that concurrent
    writers take the rows' locks in the same order). On Postgres all of them are one statement."""
    if session.get_bind().dialect.name == "postgresql":
        _apply_in_one_statement(session, deltas)
        return
    for table, changes in _by_table(deltas):
        if changes:
            _upsert(session, table, changes, deltas.detectors)
    _mark_dirty(session, deltas)


def _apply_in_one_statement(session: Session, deltas: Deltas) -> None:
    """Every table's upsert as a data-modifying CTE of one statement, each fed its rows as one
    array per column (`unnest`): one round trip per batch instead of one per table, and no
    per-row parameter handling (a worker's batch adds a thousand aggregate rows or more)."""
    parts: list[str] = []
    params: dict[str, list] = {}
    for table, changes in _by_table(deltas):
        columns = _columns(table, changes, deltas.detectors)
        if columns:
            parts.append(_upsert_part(table, columns, params, len(parts), _SUMMED[table.name]))
    days = _dirty_days(deltas)
    if days:
        dirty = tables.EvidenceDirtyDay.__table__
        columns = {"model_id": [m for m, _ in days], "day": [d for _, d in days],
                   "detector": [deltas.detectors[m] for m, _ in days], "generation": [1] * len(days)}
        parts.append(_upsert_part(dirty, columns, params, len(parts), {"generation": "{t}.generation + 1"}))
    if parts:
        session.execute(text("WITH " + ",\n".join(parts) + "\nSELECT 1"), params)


def _summed(table_name: str) -> dict[str, str]:
    return {**{v: f"{{t}}.{v} + EXCLUDED.{v}" for v in VALUES[table_name]},
            **{v: f"GREATEST({{t}}.{v}, EXCLUDED.{v})" for v in MAXIMA.get(table_name, ())}}


_SUMMED = {name: _summed(name) for name in VALUES}


def _columns(table: Table, changes: dict[tuple, list], detectors: dict[str, str]) -> dict[str, list]:
    """The rows of `changes` in key order, leaving out changes that add nothing, as one list per column."""
    keys = [c.name for c in table.primary_key.columns]
    names = (*VALUES[table.name], *MAXIMA.get(table.name, ()))
    counted = len(VALUES[table.name])
    keyed_by_detector = "detector" in keys
    columns: dict[str, list] = {name: [] for name in (*keys, *(() if keyed_by_detector else ("detector",)), *names)}
    for key, change in sorted(changes.items(), key=lambda item: tuple(map(str, item[0]))):
        if not any(change[:counted]):
            continue
        for name, value in zip(keys, key, strict=True):
            columns[name].append(value)
        if not keyed_by_detector:
            columns["detector"].append(detectors[key[0]])
        for name, value in zip(names, change, strict=True):
            columns[name].append(value)
    return columns if columns[keys[0]] else {}


def _upsert_part(table: Table, columns: dict[str, list], params: dict[str, list], n: int,
                 updates: dict[str, str]) -> str:
    """`t<n> AS (INSERT INTO table (...) SELECT * FROM unnest(<one array per column>) ON CONFLICT ...)`."""
    dialect = postgresql.dialect()
    arrays = []
    for i, (name, values) in enumerate(columns.items()):
        params[f"t{n}_{i}"] = values
        arrays.append(f"CAST(:t{n}_{i} AS {table.c[name].type.compile(dialect=dialect)}[])")
    keys = ", ".join(c.name for c in table.primary_key.columns)
    sets = ", ".join(f"{name} = {expression.format(t=table.name)}" for name, expression in updates.items())
    return (f"t{n} AS (INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({', '.join(arrays)}) "
            f"ON CONFLICT ({keys}) DO UPDATE SET {sets})")


def _dirty_days(deltas: Deltas) -> list[tuple[str, date]]:
    """The (model, day)s whose fine bins these deltas change: evidence_daily must compute them anew."""
    return sorted({(key[0], key[1]) for key, change in deltas.bins.items() if any(change)})


def _mark_dirty(session: Session, deltas: Deltas) -> None:
    """Mark the days `_dirty_days` names."""
    days = _dirty_days(deltas)
    if not days:
        return
    table = tables.EvidenceDirtyDay.__table__
    upsert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)
    session.execute(upsert.on_conflict_do_update(index_elements=["model_id", "day"],
                                                 set_={"generation": table.c.generation + 1}),
                    [{"model_id": m, "day": d, "detector": deltas.detectors[m], "generation": 1} for m, d in days])


_DAILY = ("model_id", "detector", "day", "bin_p50", "bin_p90", "bin_p99", "positives", "negatives", "correct", "tied")
_REFRESHING = text(f"SELECT pg_try_advisory_xact_lock({LOCK_KEY + 1})")


def refresh_daily(session: Session) -> int:
    """Keep in evidence_daily the figures of the days whose bins changed (evidence_daily_live) and
    clear what it computed from evidence_dirty_days; how many days. A day written meanwhile stays
    dirty (its generation moved on). One refresher at a time: others return 0 at once."""
    if session.get_bind().dialect.name == "postgresql" and not session.scalar(_REFRESHING):
        return 0
    x, c = tables.EvidenceDirtyDay, tables.EvidenceDaily
    seen = session.execute(select(x.model_id, x.day, x.generation).order_by(x.model_id, x.day)).all()
    if not seen:
        return 0
    live = text(f"SELECT {', '.join(_DAILY)} FROM evidence_daily_live").columns(day=Date)  # a date on SQLite too
    rows = [dict(r) for r in session.execute(live).mappings()]
    if rows:
        upsert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(c.__table__)
        session.execute(upsert.on_conflict_do_update(
            index_elements=["model_id", "day"], set_={k: upsert.excluded[k] for k in _DAILY[3:]}), rows)
    kept = {(r["model_id"], str(r["day"])) for r in rows}
    gone = [(m, d) for m, d, _ in seen if (m, str(d)) not in kept]  # days whose bins are all gone
    for m, d in gone:
        session.execute(delete(c).where(c.model_id == m, c.day == d))
    dirty = x.__table__.c
    session.execute(delete(x.__table__).where(dirty.model_id == bindparam("m"), dirty.day == bindparam("d"),
                                              dirty.generation == bindparam("g")),
                    [{"m": m, "d": d, "g": g} for m, d, g in seen])
    return len(seen)


def _by_table(deltas: Deltas) -> tuple[tuple[Table, dict[tuple, list[float]]], ...]:
    """Each aggregate table with its changes, in one fixed order (the order locks are taken in)."""
    return ((tables.EvidenceDecision.__table__, deltas.decisions), (tables.EvidenceBin.__table__, deltas.bins),
            (tables.EvidencePair.__table__, deltas.pairs), (tables.EvidencePairBin.__table__, deltas.pair_bins),
            (tables.EvidencePairCell.__table__, deltas.pair_cells),
            (tables.EvidenceArrival.__table__, deltas.arrivals),
            (tables.EvidenceShadowHour.__table__, deltas.shadow_hours), (tables.EvidenceDrift.__table__, deltas.drift),
            (tables.EvidenceSegment.__table__, deltas.segments), (tables.EvidenceReason.__table__, deltas.reasons),
            (tables.EvidencePairReason.__table__, deltas.pair_reasons))


def _rows(table: Table, changes: dict[tuple, list], detectors: dict[str, str]) -> list[dict]:
    """The rows of `changes` in key order, leaving out changes that add nothing (`_columns`, row by row)."""
    columns = _columns(table, changes, detectors)
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _upsert(session: Session, table: Table, changes: dict[tuple, list], detectors: dict[str, str]) -> None:
    rows = _rows(table, changes, detectors)
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    postgres = session.get_bind().dialect.name == "postgresql"
    upsert = (postgresql.insert if postgres else sqlite.insert)(table)
    greatest = func.greatest if postgres else func.max  # SQLite's max() of two arguments is the scalar one
    statement = upsert.on_conflict_do_update(
        index_elements=keys, set_={**{v: table.c[v] + upsert.excluded[v] for v in VALUES[table.name]},
                                   **{v: greatest(table.c[v], upsert.excluded[v]) for v in MAXIMA.get(table.name, ())}})
    session.execute(statement, rows)


def labels_of(session: Session, application_ids: Iterable[str]) -> dict[str, str]:
    """The label state of each application ('fraud', 'legit'; absent ones are 'none')."""
    ids = list(set(application_ids))
    found: dict[str, str] = {}
    for start in range(0, len(ids), 5_000):
        found.update((a, label_state(f)) for a, f in session.execute(
            select(tables.Outcome.application_id, tables.Outcome.is_fraud)
            .where(tables.Outcome.application_id.in_(ids[start:start + 5_000]))))
    return found


class DriftReferences:
    """Each model's reference bins, read once (they are written at registration and never change)."""

    def __init__(self) -> None:
        self._known: dict[str, DriftReference | None] = {}

    def of(self, session: Session, model_id: str) -> DriftReference | None:
        """`model_id`'s reference (None: it records none)."""
        if model_id not in self._known:
            r = tables.ModelReferenceBin
            rows = session.execute(select(r.kind, r.variable, r.bin, r.lower_edge).where(r.model_id == model_id)).all()
            self._known[model_id] = DriftReference.from_rows(rows) if rows else None
        return self._known[model_id]

    def known(self) -> list[DriftReference]:
        """The references read so far."""
        return [r for r in self._known.values() if r is not None]

    def count(self, session: Session, deltas: Deltas, scored: Iterable[tuple[Scored, Mapping[str, Any]]]) -> None:
        """Add each (score, its application's record) to `deltas.drift`, for models that record a reference."""
        for s, record in scored:
            reference = self.of(session, s.model_id)
            if reference is not None:
                deltas.drifted(s, reference, record)


def count_scores(session: Session, scored: Sequence[Scored], pairs: Sequence[tuple[Scored, Scored]] = (),
                 deltas: Deltas | None = None) -> None:
    """Count newly stored scores (and challenger-champion pairs) under their applications' labels,
    with `deltas` (what the caller counted that labels do not change: arrivals, shadow hours, drift).
    Call after `lock_evidence` and after inserting the rows, with only the rows inserted."""
    deltas = deltas or Deltas()
    labels = labels_of(session, [s.application_id for s in scored] + [c.application_id for c, _ in pairs])
    for s in scored:
        deltas.score(s, labels.get(s.application_id, UNLABELLED))
        deltas.explained(s)
    for challenger, champion in pairs:
        deltas.pair(challenger, champion, labels.get(challenger.application_id, UNLABELLED))
        deltas.disagreed(challenger, champion)
    apply(session, deltas)


def move_labels(session: Session, moves: Mapping[str, tuple[str, str]]) -> None:
    """Move every count of these applications from their old label state to the new one
    (`moves`: application id -> (old, new)). Call after `lock_evidence(session, labels=True)`."""
    moves = {a: m for a, m in moves.items() if m[0] != m[1]}
    deltas = Deltas()
    ids = list(moves)
    for start in range(0, len(ids), 5_000):
        scored, pairs = _stored_scores(session, ids[start:start + 5_000])
        for s in scored:
            old, new = moves[s.application_id]
            deltas.score(s, old, -1)
            deltas.score(s, new)
        for challenger, champion in pairs:
            old, new = moves[challenger.application_id]
            deltas.pair(challenger, champion, old, -1)
            deltas.pair(challenger, champion, new)
    apply(session, deltas)


def _stored_scores(session: Session, ids: list[str]) -> tuple[list[Scored], list[tuple[Scored, Scored]]]:
    """The scores stored for these applications (the champion's scored decision and every shadow
    score) and the challenger-champion pairs, as the aggregates count them."""
    a, d, s = tables.Application, tables.Decision, tables.ShadowScore
    arrived, segments = {}, {}
    for app_id, at, amount, detector, stored in session.execute(
            select(a.application_id, a.received_at, a.amount, a.detector, a.segments).where(a.application_id.in_(ids))):
        arrived[app_id], segments[app_id] = (detector, day_of(at), amount), stored_segments(stored, amount)
    scored: list[Scored] = []
    for app_id, model_id, score, decision in session.execute(
            select(d.application_id, d.model_id, d.score, d.decision)
            .where(d.application_id.in_(ids), d.model_id.is_not(None), d.score.is_not(None))):
        if app_id in arrived:
            scored.append(Scored(model_id, *arrived[app_id][:2], score, decision, arrived[app_id][2], app_id,
                                 segments[app_id]))
    b = tables.BacktestScore
    backtested = session.execute(select(b.application_id, b.model_id, b.score, b.decision).where(
        b.application_id.in_(ids))).all()
    champions = {app_id: (model_id, score, decision) for app_id, model_id, score, decision in session.execute(
        select(d.application_id, d.model_id, d.score, d.decision)
        .where(d.application_id.in_([r[0] for r in backtested]), d.model_id.is_not(None), d.score.is_not(None)))
    } if backtested else {}
    pairs: list[tuple[Scored, Scored]] = []
    for app_id, model_id, score, decision in backtested:  # counted as "<model>~backtest", paired with the decision
        if app_id not in arrived:
            continue
        detector, day, amount = arrived[app_id]
        mine = Scored(backtest_id(model_id), detector, day, score, decision, amount, app_id, segments[app_id])
        scored.append(mine)
        if app_id in champions:
            y_model, y_score, y_decision = champions[app_id]
            pairs.append((mine, Scored(y_model, detector, day, y_score, y_decision, amount, app_id)))
    for app_id, model_id, score, decision, champion_id, champion_score, champion_decision in session.execute(
            _with_champion(select(s.application_id, s.model_id, s.score, s.decision)).where(s.application_id.in_(ids))):
        if app_id not in arrived:
            continue
        detector, day, amount = arrived[app_id]
        mine = Scored(model_id, detector, day, score, decision, amount, app_id, segments[app_id])
        scored.append(mine)
        if champion_score is not None:
            pairs.append((mine, Scored(champion_id, detector, day, champion_score, champion_decision, amount, app_id)))
    return scored, pairs


def _with_champion(query: Select) -> Select:
    """`query` on shadow_scores with the champion's (id, score, decision) the row was paired with:
    its own columns, or for rows stored before they existed the decision on record."""
    d, s = tables.Decision, tables.ShadowScore
    return (query.add_columns(func.coalesce(s.champion_id, d.model_id), func.coalesce(s.champion_score, d.score),
                              func.coalesce(s.champion_decision, d.decision))
            .outerjoin(d, and_(d.application_id == s.application_id, s.champion_score.is_(None),
                               d.model_id.is_not(None), d.score.is_not(None))))


AGGREGATES = (tables.EvidenceDecision, tables.EvidenceBin, tables.EvidencePair, tables.EvidencePairBin,
              tables.EvidencePairCell,
              tables.EvidenceArrival, tables.EvidenceShadowHour, tables.EvidenceDrift, tables.EvidenceSegment,
              tables.EvidenceReason, tables.EvidencePairReason)


def decision_shares(session: Session, model_id: str, since: date) -> tuple[int, dict[str, float]]:
    """How many applications `model_id` decided from day `since` on, and the share of each decision."""
    e = tables.EvidenceDecision
    counts = {decision: int(n) for decision, n in session.execute(
        select(e.decision, func.sum(e.applications)).where(e.model_id == model_id, e.day >= since)
        .group_by(e.decision))}
    total = sum(counts.values())
    return total, {d: n / total for d, n in counts.items()} if total else {}


def arrival_span(session: Session, detector: str) -> tuple[datetime, datetime] | None:
    """The first and last arrival of `detector`'s applications (None: none stored)."""
    a = tables.Application
    first, last = session.execute(select(func.min(a.received_at), func.max(a.received_at))
                                  .where(a.detector == detector)).one()
    return None if first is None else (first, last)


def recount_day(session: Session, detector: str, day: date) -> int:
    """Replace `detector`'s aggregates of `day` with a count of the stored rows; how many scores it counted.
    Each raw table is read once, over the day's range of its partition key; memory is bounded by one
    day's rows (counted as columns, `arbiter.domain.recount`)."""
    import pandas as pd  # only the rebuild counts in columns: everything else starts without pandas

    from arbiter.domain import recount
    for table in (*AGGREGATES, tables.EvidenceDaily):
        session.execute(delete(table).where(table.detector == detector, table.day == day))
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = start + timedelta(days=1)
    a, d, s = tables.Application, tables.Decision, tables.ShadowScore
    references = DriftReferences()
    for (model_id,) in session.execute(select(tables.Model.id).where(tables.Model.detector == detector)):
        references.of(session, model_id)
    watched = sorted({v for ref in references.known() for kind, v, _ in ref.variables if kind == "feature"})
    fields = [a.payload[v].as_string() for v in watched]
    apps = _frame(session, select(a.application_id, a.received_at, a.amount, a.segments, *fields)
                  .where(a.detector == detector, a.received_at >= start, a.received_at < end),
                  ["application_id", "received_at", "amount", "segments", *watched])
    states = labels_of(session, apps["application_id"])
    apps["is_fraud"] = apps["application_id"].map(lambda i: {"fraud": True, "legit": False}.get(states.get(i, "")))
    decided = _frame(session, select(d.application_id, d.model_id, d.score, d.decision, d.decided_at, d.explanation)
                     .where(d.detector == detector, d.decided_at >= start, d.decided_at < end, d.model_id.is_not(None),
                            d.score.is_not(None)),
                     ["application_id", "model_id", "score", "decision", "scored_at", "explanation"])
    shadowed = _frame(session, select(s.application_id, s.model_id, s.score, s.decision, s.scored_at, s.champion_id,
                                      s.champion_score, s.champion_decision, s.explanation)
                      .where(s.detector == detector, s.received_at >= start, s.received_at < end),
                      ["application_id", "model_id", "score", "decision", "scored_at", "champion_id", "champion_score",
                       "champion_decision", "explanation"])
    bt = tables.BacktestScore
    backtested = _frame(session, select(bt.application_id, bt.model_id, bt.score, bt.decision, bt.scored_at,
                                        bt.explanation)
                        .where(bt.detector == detector, bt.received_at >= start, bt.received_at < end),
                        ["application_id", "model_id", "score", "decision", "scored_at", "explanation"])
    backtested["model_id"] = backtested["model_id"].map(backtest_id)
    champion = decided.merge(apps, on="application_id").assign(shadow=False)
    challenger = shadowed.merge(apps, on="application_id").assign(shadow=True)
    columns = [*recount.SCORED, *watched]
    backtest = backtested.merge(apps, on="application_id").assign(shadow=False)  # not shadow coverage
    scored = pd.concat([champion[columns], challenger[columns], backtest[columns]], ignore_index=True)
    # the champion each challenger row was paired with: its own columns, or (rows stored before they
    # existed) the decision on record, as `_with_champion` reads it
    paired = challenger.merge(decided[["application_id", "model_id", "score", "decision", "explanation"]].rename(
        columns={"model_id": "d_model", "score": "d_score", "decision": "d_decision", "explanation": "d_explanation"}),
        on="application_id", how="left")
    own = paired["champion_score"].notna()
    paired = pd.DataFrame({
        "x_model": paired["model_id"], "x": paired["score"], "x_decision": paired["decision"],
        "amount": paired["amount"], "is_fraud": paired["is_fraud"],
        "y_model": paired["champion_id"].where(own, paired["d_model"]),
        "y": paired["champion_score"].where(own, paired["d_score"]),
        "y_decision": paired["champion_decision"].where(own, paired["d_decision"]),
        # the champion's reasons: its decision on record (the model the row was paired with decided it)
        "x_explanation": paired["explanation"],
        "y_explanation": paired["d_explanation"].where(paired["d_model"] == paired["champion_id"].where(own,
                                                                                                      paired["d_model"]))})
    paired = paired[paired["y"].notna()].astype({"y": float})
    # a backtest pairs with the decision on record (its model decided it then)
    with_decision = backtest.merge(decided[["application_id", "model_id", "score", "decision", "explanation"]].rename(
        columns={"model_id": "y_model", "score": "y", "decision": "y_decision", "explanation": "y_explanation"}),
        on="application_id")
    if len(with_decision):
        paired = pd.concat([paired, pd.DataFrame({
            "x_model": with_decision["model_id"], "x": with_decision["score"],
            "x_decision": with_decision["decision"], "amount": with_decision["amount"],
            "is_fraud": with_decision["is_fraud"], "y_model": with_decision["y_model"],
            "y": with_decision["y"].astype(float), "y_decision": with_decision["y_decision"],
            "x_explanation": with_decision["explanation"], "y_explanation": with_decision["y_explanation"]})],
            ignore_index=True)
    deltas = recount.recount(detector, day, scored, paired, list(apps["received_at"]),
                             {m: r for m in scored["model_id"].unique() if (r := references.of(session, m))}, watched)
    _insert(session, deltas)
    _mark_dirty(session, deltas)
    return len(scored)


def _frame(session: Session, query: Select, columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    # plain tuples through the Core connection: pandas builds a frame from Row objects several times slower
    return pd.DataFrame.from_records([tuple(r) for r in session.connection().execute(query)], columns=columns)


def _insert(session: Session, deltas: Deltas) -> None:
    """Plain inserts (a recount replaces the day): a concurrent writer's new row makes this fail, not double."""
    for table, changes in _by_table(deltas):
        rows = _rows(table, changes, deltas.detectors)
        for start in range(0, len(rows), 5_000):
            session.execute(insert(table), rows[start:start + 5_000])
