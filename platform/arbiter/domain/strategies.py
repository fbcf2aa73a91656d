"""Strategies: versioned thresholds mapping a score in [0, 1] to approve / review / decline."""

from __future__ import annotations

from dataclasses import dataclass

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
