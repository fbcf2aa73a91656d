"""Strategies: versioned thresholds mapping a score in [0, 1] to approve / review / decline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field, model_validator

DEFAULT_REVIEW = 0.5
DEFAULT_DECLINE = 0.8


@dataclass(frozen=True)
class Strategy:
    detector: str
    version: int
    review_threshold: float
    decline_threshold: float

    def decide(self, score: float) -> str:
        """decline at or above the decline threshold, review at or above review, else approve."""
        if score >= self.decline_threshold:
            return "decline"
        if score >= self.review_threshold:
            return "review"
        return "approve"


def _levels(scores: Sequence[float], levels: Sequence[float] | None) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(scores, dtype=float)
    at = np.linspace(0.0, 1.0, len(values)) if levels is None else np.asarray(levels, dtype=float)
    return at, values


def rates_under(quantiles: Sequence[float], review: float, decline: float,
                levels: Sequence[float] | None = None) -> tuple[float, float]:
    """(review rate, decline rate) of a score distribution given as `quantiles` (the scores at
    `levels`, evenly spaced from 0 to 1 by default) under thresholds `review` and `decline`."""
    at, scores = _levels(quantiles, levels)

    def share_at_or_above(threshold: float) -> float:
        # the lowest level whose score reaches the threshold (ties: all of them are at or above)
        reached = np.nonzero(scores >= threshold)[0]
        return 0.0 if len(reached) == 0 else float(1.0 - at[reached[0]])

    declined = share_at_or_above(decline)
    return max(share_at_or_above(review) - declined, 0.0), declined


def matched_thresholds(quantiles: Sequence[float], review_rate: float, decline_rate: float,
                       levels: Sequence[float] | None = None) -> tuple[float, float]:
    """(review, decline) thresholds that give a score distribution (`quantiles` at `levels`, as
    above) these review and decline rates: its scores at levels 1 - decline_rate and
    1 - decline_rate - review_rate."""
    at, scores = _levels(quantiles, levels)
    decline = float(np.interp(min(max(1.0 - decline_rate, 0.0), 1.0), at, scores))
    review = float(np.interp(min(max(1.0 - decline_rate - review_rate, 0.0), 1.0), at, scores))
    return min(max(review, 0.0), 1.0), min(max(decline, review, 0.0), 1.0)


class StrategyInput(BaseModel):
    """The body of `PUT /admin/v1/detectors/{detector}/strategy`."""

    review_threshold: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    decline_threshold: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    note: str = Field("", max_length=2000)

    @model_validator(mode="after")
    def _ordered(self) -> StrategyInput:
        if self.review_threshold > self.decline_threshold:
            raise ValueError("review_threshold must not exceed decline_threshold")
        return self
