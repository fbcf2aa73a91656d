"""Idempotent writes of applications, decisions and shadow scores (the shadow path's consumers).

Insert-or-ignore on the primary key: a redelivered or retried application never makes a
second row, and the first recorded decision stands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, Table, and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from arbiter.domain.derivations import record_derivations
from arbiter.domain.evidence import Scored, day_of, reasons_of, utc
from arbiter.domain.pii import PiiHasher
from arbiter.store import tables
from models.explain import as_pairs
from models.schema import Detector
from models.segments import segment_pairs, segments_of


def insert_ignoring_duplicates(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> set[tuple]:
    """Insert `rows`, skipping any whose primary key exists; the primary keys actually inserted."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    keys = [c.name for c in table.primary_key.columns]
    # RETURNING makes SQLAlchemy batch the rows into multi-row INSERTs ("insertmanyvalues") with one
    # cached statement; without it psycopg2 sends one round trip per row. It also counts what landed.
    statement = insert(table).on_conflict_do_nothing(index_elements=keys).returning(*table.primary_key.columns)
    return {tuple(row) for row in session.execute(statement, list(rows)).all()}


def stored_at_another_moment(session: Session, table: Table, rows: Sequence[Mapping[str, Any]], moment: str,
                             identity: Sequence[str]) -> set[tuple]:
    """The identities (values of `identity`) of `rows` already stored with a different `moment`: an
    application id sent again later. The primary key holds the moment (the partition key), so only
    this look makes the first one stand; a redelivery, same moment, is left to the key."""
    given = {tuple(r[c] for c in identity): r[moment] for r in rows}
    found: set[tuple] = set()
    ids = sorted({key[0] for key in given})
    columns = [table.c[c] for c in identity]
    others = {c: {key[i] for key in given} for i, c in enumerate(identity) if i > 0}
    for start in range(0, len(ids), 5_000):
        query = select(*columns, table.c[moment]).where(columns[0].in_(ids[start:start + 5_000]),
                                                        *(table.c[c].in_(v) for c, v in others.items()))
        for *key, at in session.execute(query):
            if tuple(key) in given and utc(at) != utc(given[tuple(key)]):
                found.add(tuple(key))
    return found


def _dedupe(rows: Iterable[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    seen: dict[Any, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row[key], row)  # within one batch too, the first one stands
    return list(seen.values())


@dataclass
class Recorded:
    """What `record_decisions` inserted: the applications' rows, and the model-scored decisions."""

    applications: list[dict[str, Any]] = field(default_factory=list)
    scored: list[Scored] = field(default_factory=list)

    def __iadd__(self, other: Recorded) -> Recorded:
        self.applications += other.applications
        self.scored += other.scored
        return self


def store_applications(session: Session, detector: Detector, hasher: PiiHasher, records: Sequence[Mapping[str, Any]],
                       application_ids: Sequence[str], received_at: Sequence[datetime]
                       ) -> tuple[list[dict[str, Any]], set[str]]:
    """Store the applications not stored yet (PII as keyed hashes, with what backtests need of it derived:
    `arbiter.domain.derivations`); the rows as given (the first of each id), in id order (concurrent
    recorders insert in the same order), and the ids inserted."""
    applications = _dedupe(({
        "application_id": app_id, "detector": detector.name, "received_at": at,
        "payload": hasher.protect(detector, rec), "amount": rec.get(detector.amount_field) if detector.amount_field
        else None, "schema_version": 1, "segments": segments_of(detector, rec, at),
        "derived": derived}
        for rec, app_id, at, derived in zip(records, application_ids, received_at,
                                            record_derivations(detector, records, hasher), strict=True)),
        "application_id")
    again = stored_at_another_moment(session, tables.Application.__table__, applications, "received_at",
                                     ("application_id",))
    applications = [a for a in applications if (a["application_id"],) not in again]
    # in id order: competing recorders may insert the same applications (a redelivery), and two
    # transactions waiting on each other's uncommitted rows in opposite orders would deadlock
    applications.sort(key=lambda a: a["application_id"])
    inserted = insert_ignoring_duplicates(session, tables.Application.__table__, applications)
    return applications, {key[0] for key in inserted}


def record_decisions(session: Session, detector: Detector, hasher: PiiHasher, records: Sequence[Mapping[str, Any]],
                     results: Sequence[Mapping[str, Any]],
                     received_at: datetime | Sequence[datetime] | None = None) -> Recorded:
    """Store the applications (PII as keyed hashes) and the champion's decisions; for the evidence,
    the applications this call inserted and the model-scored decisions (rule hits have no score).

    `received_at` is one time for all, or one per application (the recorder passes each message's).
    """
    moments = list(received_at) if isinstance(received_at, Sequence) else [received_at or datetime.now(UTC)] * len(
        results)
    applications, stored = store_applications(session, detector, hasher, records,
                                              [r["application_id"] for r in results],
                                              moments)
    decisions = _dedupe(({
        "application_id": r["application_id"], "detector": detector.name,
        "model_id": (r.get("model") or {}).get("id"), "score": r.get("score"), "decision": r["decision"],
        "reasons": list(r["reasons"]), "strategy_version": r.get("strategy_version"),
        "rules_version": r.get("rules_version"), "elapsed_ms": r.get("elapsed_ms"), "decided_at": at,
        "explanation": as_pairs(r.get("explanation"))}
        for r, at in zip(results, moments, strict=True)), "application_id")
    arrived = {a["application_id"]: a for a in applications}
    decisions = [d for d in decisions if d["application_id"] in arrived]  # not one sent again later
    inserted = {key[0] for key in insert_ignoring_duplicates(session, tables.Decision.__table__, decisions)}
    return Recorded([a for a in applications if a["application_id"] in stored], [
        Scored(d["model_id"], detector.name, day_of(arrived[d["application_id"]]["received_at"]), d["score"],
               d["decision"], arrived[d["application_id"]]["amount"], d["application_id"],
               segment_pairs(arrived[d["application_id"]]["segments"]), reasons_of(d["explanation"]))
        for d in decisions if d["application_id"] in inserted and d["model_id"] and d["score"] is not None])


def applications_page(query: Select, detector: str, since: datetime, cursor: tuple[datetime, str],
                      batch: int) -> Select:
    """`query` (on `applications`) narrowed to `detector`'s applications received from `since` on and
    after `cursor` (received_at, application_id), in that order, at most `batch`: keyset pagination,
    each page one index range however deep into the history."""
    a = tables.Application
    return (query.where(a.detector == detector, a.received_at >= since,
                        or_(a.received_at > cursor[0], and_(a.received_at == cursor[0], a.application_id > cursor[1])))
            .order_by(a.received_at, a.application_id).limit(batch))
