"""The synchronous scoring path: validate -> rules -> features -> champion -> strategy.

Pure in-process work on the current serving snapshot; a batch is scored in one vector call.
A rule hit decides without the model (and so works even with no champion loaded).
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from arbiter.domain.errors import Invalid, NotFound, Unavailable
from arbiter.domain.pii import PiiHasher
from arbiter.serving.state import DetectorState, ServingState
from models.explain import as_pairs
from models.validation import validate_record


class UnknownDetectorError(NotFound):
    """The path names no declared detector."""


class InvalidInputError(Invalid):
    """An application's fields do not fit its detector."""


class NoChampionError(Unavailable):
    """Nothing decided the application by rule and no champion is loaded."""


@dataclass(frozen=True)
class Application:
    application_id: str | None
    data: Any


Sink = Callable[[str, list[dict[str, Any]], list[dict[str, Any]]], None]


_ids = {"prefix": "", "counter": itertools.count()}


def _new_id_prefix() -> None:
    _ids["prefix"], _ids["counter"] = f"app-{uuid.uuid4().hex[:16]}", itertools.count()


_new_id_prefix()
os.register_at_fork(after_in_child=_new_id_prefix)  # a forked worker must not repeat its parent's ids


def new_application_id() -> str:
    """A unique id for an application sent without one: a random per-process prefix and a counter
    (next() is atomic under the GIL). A uuid4 per request reads the kernel's random source each
    time: about 10 us of the event loop's time under load."""
    return f"{_ids['prefix']}{next(_ids['counter']):012x}"


class Scorer:
    """Scores applications for a detector with the snapshot in force when the call starts."""

    def __init__(self, state: ServingState, hasher: PiiHasher, sink: Sink | None = None, explain: bool = True,
                 top: Mapping[str, int] | None = None) -> None:
        self.state = state
        self.hasher = hasher
        self.explain = explain  # ARBITER_EXPLANATIONS: off only to measure the gateway without them
        self.top = top or {}  # inputs an explanation names, per detector (ARBITER_EXPLANATION_TOP; 3 otherwise)
        self.sink = sink  # receives (detector, clean records, results) for recording / fan-out

    def detector_state(self, detector: str) -> DetectorState:
        state = self.state.snapshot.detectors.get(detector)
        if state is None:
            raise UnknownDetectorError(f"unknown detector {detector!r}")
        return state

    def score(self, detector: str, applications: Sequence[Application], *, where: str = "") -> list[dict[str, Any]]:
        started = time.perf_counter()
        state = self.detector_state(detector)
        records, errors = [], []
        for i, app in enumerate(applications):
            prefix = f"{where}{i}." if where else ""
            clean, problems = validate_record(state.detector, app.data)
            errors.extend({"field": f"{prefix}data.{p.field}" if p.field != "data" else f"{prefix}data",
                           "message": p.message} for p in problems)
            records.append(clean)
        if errors:
            raise InvalidInputError("invalid input", errors)

        results: list[dict[str, Any]] = [{} for _ in records]
        to_score: list[int] = []
        for i, record in enumerate(records):
            hits = state.rules.evaluate(record, self.hasher) if state.rules else []
            if hits:
                results[i] = self._result(state, applications[i], None, hits[0].action,
                                          [f"rule:{h.rule_id}" for h in hits], with_model=False,
                                          explanation=[{"feature": f"rule:{h.rule_id}", "contribution": None,
                                                        "text": state.rules.texts.get(h.rule_id, h.rule_id)}
                                                       for h in hits])
            else:
                to_score.append(i)
        if to_score:
            if state.champion is None:
                raise NoChampionError(f"no champion model is loaded for {detector!r}; promote one first")
            runtime, chosen = state.champion.runtime, [records[i] for i in to_score]
            scores, explained = runtime.score_and_explain(chosen, self.top.get(detector, 3)) if self.explain else \
                (runtime.score_records(chosen), None)
            for n, (i, score) in enumerate(zip(to_score, scores, strict=True)):
                decision = state.strategy.decide(float(score))
                results[i] = self._result(state, applications[i], float(score), decision,
                                          [_score_reason(float(score), decision, state)], with_model=True,
                                          explanation=explained[n] if explained is not None else [])
        elapsed = round((time.perf_counter() - started) * 1e3, 3)
        for result in results:  # every slot is filled: by a rule hit or by the champion
            result["elapsed_ms"] = elapsed
        if self.sink is not None:  # what is recorded: explanations as pairs (texts cost the publisher, not the reader)
            self.sink(detector, records, [r | {"explanation": as_pairs(r["explanation"])} if r["explanation"] else r
                                          for r in results])
        return results

    def _result(self, state: DetectorState, app: Application, score: float | None, decision: str,
                reasons: list[str], *, with_model: bool, explanation: list[dict[str, Any]] | None = None
                ) -> dict[str, Any]:
        champion = state.champion
        model = {"id": champion.model_id, "name": champion.name, "version": champion.version} \
            if with_model and champion else None
        return {
            "application_id": app.application_id or new_application_id(),
            "detector": state.detector.name,
            "score": score,
            "decision": decision,
            "reasons": reasons,
            "explanation": explanation or [],  # the inputs that pushed the score up most (models/explain.py)
            "model": model,
            "strategy_version": state.strategy.version,
            "rules_version": state.rules.version,
        }


def _score_reason(score: float, decision: str, state: DetectorState) -> str:
    s = state.strategy
    if decision == "decline":
        return f"score {score:.3f} >= decline threshold {s.decline_threshold:g}"
    if decision == "review":
        return f"score {score:.3f} >= review threshold {s.review_threshold:g}"
    return f"score {score:.3f} < review threshold {s.review_threshold:g}"


def check_envelope(body: Any, where: str = "") -> tuple[Application | None, list[dict[str, str]]]:
    """The `{"application_id", "data"}` envelope of one application, or what is wrong with it."""
    if not isinstance(body, Mapping):
        return None, [{"field": where.rstrip(".") or "body", "message": "must be an object"}]
    errors = [{"field": f"{where}{k}" if isinstance(k, str) and len(k) <= 64 else f"{where}<field>",
               "message": "is not allowed"} for k in body if k not in ("application_id", "data")]
    app_id = body.get("application_id")
    if app_id is not None and (not isinstance(app_id, str) or not 1 <= len(app_id) <= 128
                               or not app_id.isprintable()):
        errors.append({"field": f"{where}application_id", "message": "must be a printable string of 1-128 chars"})
    if "data" not in body:
        errors.append({"field": f"{where}data", "message": "is required"})
    return (Application(app_id, body.get("data")) if not errors else None), errors
