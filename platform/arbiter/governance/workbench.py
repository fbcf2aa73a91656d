"""The strategists' workbench: simulate a strategy on a model's stored evidence, find the thresholds
that cost least under a review capacity, and save a result as a strategy proposal (which then goes
through approval like any other). `arbiter simulate` and `POST /admin/v1/detectors/{d}/simulate`."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from arbiter.bootstrap import Platform
from arbiter.domain.errors import Invalid, NotFound
from arbiter.domain.simulation import best_thresholds, cost_curve, decline_threshold_for_rate, simulate
from arbiter.domain.strategies import StrategyInput
from arbiter.governance import proposals
from arbiter.governance.configuration import known_detector
from arbiter.insights.reporting import parse_since
from arbiter.insights.workbench import bin_counts, view_costs
from arbiter.store import config_repo, models_repo, tables


class SimulationRequest(BaseModel):
    """What to simulate: thresholds (`review` and `decline`) or a target `decline_rate`, for a model
    (the champion by default) over the applications since `since`."""

    model_config = ConfigDict(extra="forbid")

    model_id: str | None = Field(None, max_length=160, description="default: the detector's champion")
    review: float | None = Field(None, ge=0, le=1, allow_inf_nan=False, description="review threshold")
    decline: float | None = Field(None, ge=0, le=1, allow_inf_nan=False, description="decline threshold")
    decline_rate: float | None = Field(None, ge=0, le=1, allow_inf_nan=False,
                                       description="target share declined (instead of `decline`)")
    since: str = Field("30d", max_length=64, description="ISO date or a span back from now: 30d, 12h")
    review_capacity: float | None = Field(None, gt=0, allow_inf_nan=False,
                                          description="reviews a day the team can take (for `best`)")
    review_cost: float = Field(0.0, ge=0, allow_inf_nan=False, description="cost of one review")
    save: bool = Field(False, description="save the simulated thresholds as a strategy proposal")
    note: str = Field("", max_length=2000)

    @model_validator(mode="after")
    def _one_way(self) -> SimulationRequest:
        if self.decline_rate is not None:
            if self.decline is not None:
                raise ValueError("give decline or decline_rate, not both")
        elif self.review is None or self.decline is None:
            raise ValueError("give review and decline thresholds, or a decline_rate")
        if self.review is not None and self.decline is not None and self.review > self.decline:
            raise ValueError("review must not exceed decline")
        return self


def simulate_strategy(platform: Platform, detector: str, request: SimulationRequest, *, actor: str
                      ) -> dict[str, Any]:
    """The figures of the requested strategy, the cost curve, the cheapest thresholds under the review
    capacity, and (with `save`) the proposal it became."""
    started = time.perf_counter()
    known_detector(detector)
    try:
        since = parse_since(request.since)
    except ValueError as exc:
        raise Invalid(str(exc), [{"field": "since", "message": str(exc)}]) from None
    with platform.sessions() as session:
        model = _model(session, detector, request.model_id)
        strategy = config_repo.model_strategy_in_force(session, model)
        costs, maturity = view_costs(session.connection(), request.review_cost)
        counts = bin_counts(session.connection(), model.id, since.date(), maturity)
    if counts.total == 0:
        raise Invalid(f"{model.id} scored no application since {since.date().isoformat()}: nothing to simulate",
                      [{"field": "since", "message": "no scored application in the window"}])
    decline = request.decline if request.decline_rate is None else decline_threshold_for_rate(
        counts, request.decline_rate)
    assert decline is not None
    review = request.review if request.review is not None else min(strategy.review_threshold, decline)
    review = min(review, decline)
    simulated = simulate(counts, review, decline, costs)
    result: dict[str, Any] = {
        "detector": detector, "model_id": model.id, "champion": model.status == "champion",
        "since": since.isoformat(), "days": counts.days,
        "costs": {"missed_fraud_cost": costs.missed_fraud_cost, "false_decline_cost": costs.false_decline_cost,
                  "review_cost": costs.review_cost, "label_maturity_days": maturity},
        "current": {"review_threshold": strategy.review_threshold, "decline_threshold": strategy.decline_threshold,
                    **{k: v for k, v in simulate(counts, strategy.review_threshold, strategy.decline_threshold,
                                                 costs).items() if k not in ("review_threshold", "decline_threshold")}},
        "simulated": simulated,
        "best": best_thresholds(counts, costs, request.review_capacity),
        "curve": cost_curve(counts, review, costs),
    }
    if request.save:
        change = StrategyInput(review_threshold=review, decline_threshold=decline,
                               note=request.note or f"simulated on {model.id} since {since.date().isoformat()}")
        submitted = proposals.submit_strategy(platform, detector, change, actor=actor) if model.status == "champion" \
            else proposals.submit_model_strategy(platform, model.id, change, actor=actor)
        result["proposal"] = submitted.record | {"pending": submitted.pending}
    result["elapsed_ms"] = round((time.perf_counter() - started) * 1e3, 2)
    return result


def _model(session: Any, detector: str, model_id: str | None) -> tables.Model:
    if model_id is None:
        champion = models_repo.champion_of(session, detector)
        if champion is None:
            raise Invalid(f"{detector} has no champion: name a model", [{"field": "model_id", "message": "required"}])
        return champion
    model = session.get(tables.Model, model_id)
    if model is None or model.detector != detector:
        raise NotFound(f"no model {model_id!r} for detector {detector!r}")
    return model
