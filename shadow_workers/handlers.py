"""What a worker does with a batch from one queue: the recorder's and a challenger's work.

`prepare` decodes and scores the deliveries (no database I/O) into per-message write units
and failures; `write` stores a list of units in the caller's transaction, idempotently, so
the worker can write a whole batch at once or, when the database refuses the batch, message
by message to find the one at fault.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from typing import Any, Protocol

from sqlalchemy.orm import Session

from arbiter.broker.codec import ApplicationMessage, MessageCodec, UndecodableMessage
from arbiter.broker.transport import Delivery
from arbiter.domain.evidence import Deltas, Scored, day_of, reasons_of
from arbiter.domain.pii import PiiHasher
from arbiter.domain.strategies import Strategy
from arbiter.store import tables
from arbiter.store.evidence_repo import DriftReferences, count_scores, lock_evidence
from arbiter.store.records_repo import (
    Recorded,
    insert_ignoring_duplicates,
    record_decisions,
    stored_at_another_moment,
)
from models.detectors import DETECTORS, Detector
from models.explain import as_pairs
from models.runtimes import Runtime
from models.segments import segment_pairs, segments_of
from models.validation import validate_record

log = logging.getLogger("arbiter.worker")


@dataclass(frozen=True)
class Failure:
    """An application (or, with `message` None, a whole unreadable delivery) that could not be handled;
    `retryable` failures are tried again up to the attempt limit."""

    delivery: Delivery
    reason: str
    retryable: bool
    message: ApplicationMessage | None = None


@dataclass
class Prepared:
    units: list[tuple[Delivery, ApplicationMessage, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


class Handler(Protocol):
    queue: str

    def prepare(self, deliveries: Sequence[Delivery]) -> Prepared: ...

    def write(self, session: Session, units: Sequence[Any]) -> None: ...


def decode_delivery(codec: MessageCodec, delivery: Delivery, expected: Detector | None, prepared: Prepared
                    ) -> list[tuple[ApplicationMessage, dict[str, Any]]]:
    """The delivery's applications with their re-validated records; what can never be handled goes
    to `prepared.failures` (the whole delivery when its body is unreadable, else per application)."""
    try:
        messages = codec.decode(delivery.body)
    except UndecodableMessage as exc:
        prepared.failures.append(Failure(delivery, f"undecodable: {exc}", retryable=False))
        return []
    usable = []
    for message in messages:
        detector = DETECTORS.get(message.detector)
        if detector is None or (expected is not None and detector.name != expected.name):
            prepared.failures.append(Failure(delivery, f"unexpected detector {message.detector!r}", False, message))
            continue
        clean, problems = validate_record(detector, message.record)
        if problems:
            detail = "; ".join(f"{p.field} {p.message}" for p in problems[:5])
            prepared.failures.append(Failure(delivery, f"invalid record: {detail}", False, message))
            continue
        usable.append((message, clean))
    return usable


class RecorderHandler:
    """`arbiter.recorder`: the applications (PII as keyed hashes) and the champion's decisions."""

    queue: str

    def __init__(self, queue: str, codec: MessageCodec, hasher: PiiHasher, *, evidence: bool = True) -> None:
        self.queue, self.codec, self.hasher, self.evidence = queue, codec, hasher, evidence
        self.references = DriftReferences()

    def prepare(self, deliveries: Sequence[Delivery]) -> Prepared:
        prepared = Prepared()
        for delivery in deliveries:
            for message, clean in decode_delivery(self.codec, delivery, None, prepared):
                if message.result.get("decision") not in tables.DECISIONS:
                    prepared.failures.append(Failure(delivery, "result carries no valid decision", False, message))
                else:
                    prepared.units.append((delivery, message, (message, clean)))
        return prepared

    def write(self, session: Session, units: Sequence[tuple[ApplicationMessage, dict[str, Any]]]) -> None:
        if self.evidence:
            lock_evidence(session)
        ordered = sorted(units, key=lambda u: u[0].detector)
        recorded = Recorded()
        for name, group in groupby(ordered, key=lambda u: u[0].detector):
            items = list(group)
            recorded += record_decisions(session, DETECTORS[name], self.hasher, [clean for _, clean in items],
                                         [{**m.result, "application_id": m.application_id} for m, _ in items],
                                         [m.received_at for m, _ in items])
        if self.evidence and (recorded.applications or recorded.scored):
            deltas = Deltas()
            for application in recorded.applications:
                deltas.arrive(application["detector"], application["received_at"])
            payloads = {a["application_id"]: a["payload"] for a in recorded.applications}
            self.references.count(session, deltas, ((s, payloads.get(s.application_id, {})) for s in recorded.scored))
            count_scores(session, recorded.scored, deltas=deltas)


@dataclass(frozen=True)
class ShadowUnit:
    """A challenger's score ready to store: the row, and the score and pair the evidence counts."""

    row: dict[str, Any]
    mine: Scored
    champion: Scored | None
    record: dict[str, Any]


class ChallengerHandler:
    """`arbiter.shadow.<model_id>`: the challenger's score and the decision the strategy would make."""

    def __init__(self, queue: str, codec: MessageCodec, model: tables.Model, runtime: Runtime,
                 strategy: Strategy, *, evidence: bool = True, top: int = 3) -> None:
        self.queue, self.codec, self.runtime, self.strategy = queue, codec, runtime, strategy
        self.top = top  # inputs an explanation names (ARBITER_EXPLANATION_TOP for this detector)
        self.model_id, self.detector, self.evidence = model.id, DETECTORS[model.detector], evidence
        self.references = DriftReferences()

    def prepare(self, deliveries: Sequence[Delivery]) -> Prepared:
        prepared = Prepared()
        decoded = [(delivery, message, clean) for delivery in deliveries
                   for message, clean in decode_delivery(self.codec, delivery, self.detector, prepared)]
        if not decoded:
            return prepared
        explained: list[Any] = [None] * len(decoded)
        try:
            vector, explanations = self.runtime.score_and_explain([clean for _, _, clean in decoded], self.top)
            scores = list(vector)
            explained = explanations if explanations is not None else explained
        except Exception:  # one bad record spoils the vector call: score one by one to find it
            scores = [self._score_one(clean) for _, _, clean in decoded]
        strategy, now = self.strategy, datetime.now(UTC)
        for (delivery, message, clean), score, explanation in zip(decoded, scores, explained, strict=True):
            if isinstance(score, Exception):
                prepared.failures.append(Failure(delivery, f"scoring failed: {type(score).__name__}: {score}",
                                                 True, message))
                continue
            value = float(score)
            if not math.isfinite(value):
                prepared.failures.append(Failure(delivery, f"scoring failed: score {value}", True, message))
                continue
            row = {"application_id": message.application_id, "model_id": self.model_id,
                   "detector": self.detector.name, "score": value, "decision": strategy.decide(value),
                   "strategy_version": strategy.version, "published_at": message.published_at, "scored_at": now,
                   "received_at": message.received_at, "explanation": as_pairs(explanation)}
            mine, champion = self._evidence(message, clean, row)
            row |= {"champion_id": champion.model_id if champion else None,
                    "champion_score": champion.score if champion else None,
                    "champion_decision": champion.decision if champion else None}
            prepared.units.append((delivery, message, ShadowUnit(row, mine, champion, clean)))
        return prepared

    def _score_one(self, record: dict[str, Any]) -> float | Exception:
        try:
            return float(self.runtime.score_records([record])[0])
        except Exception as exc:
            return exc

    def _evidence(self, message: ApplicationMessage, clean: dict[str, Any], row: dict[str, Any]
                  ) -> tuple[Scored, Scored | None]:
        """The score as the aggregates count it, and the champion's on the same application (when a
        model scored it: a rule hit has no score to pair with)."""
        field = self.detector.amount_field
        amount, day = (clean.get(field) if field else None), day_of(message.received_at)
        segments = segment_pairs(segments_of(self.detector, clean, message.received_at))
        mine = Scored(self.model_id, self.detector.name, day, row["score"], row["decision"], amount,
                      message.application_id, segments, reasons_of(row["explanation"]))
        result, model = message.result, (message.result.get("model") or {}).get("id")
        champion = None if model is None or result.get("score") is None else Scored(
            model, self.detector.name, day, float(result["score"]), result["decision"], amount, message.application_id,
            segments, reasons_of(result.get("explanation")))
        return mine, champion

    def write(self, session: Session, units: Sequence[ShadowUnit]) -> None:
        firsts = {u.row["application_id"]: u for u in reversed(units)}  # within a batch too, the first one stands
        if self.evidence:  # a label arriving meanwhile is either seen here or sees this score
            lock_evidence(session)
        table = tables.ShadowScore.__table__
        again = stored_at_another_moment(session, table, [u.row for u in firsts.values()], "received_at",
                                         ("application_id", "model_id"))
        rows = [u.row for app_id, u in firsts.items() if (app_id, self.model_id) not in again]
        inserted = {key[:2] for key in insert_ignoring_duplicates(session, table, rows)}
        if self.evidence:
            new = [u for app_id, u in firsts.items() if (app_id, self.model_id) in inserted]
            if not new:
                return
            deltas = Deltas()
            for u in new:
                deltas.shadow(self.model_id, self.detector.name, u.row["received_at"], u.row["scored_at"])
            self.references.count(session, deltas, ((u.mine, u.record) for u in new))
            count_scores(session, [u.mine for u in new], [(u.mine, u.champion) for u in new if u.champion is not None],
                         deltas)
