"""Segments derived when an application is recorded (domain/segments.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.detectors import get_detector
from models.segments import age_band, amount_band, dimensions, segment_pairs, segments_of

AT = datetime(2026, 6, 15, 12, tzinfo=UTC)


@pytest.mark.parametrize(("born", "band"), [
    ("2008-06-15", "18-24"), ("2008-06-16", "under-18"), ("2001-06-16", "18-24"), ("2001-06-15", "25-34"),
    ("1961-06-15", "65+"), ("1972-01-01", "45-54"), ("not a date", "unknown"), (None, "unknown"),
    ("1800-01-01", "unknown"), ("2030-01-01", "unknown")])
def test_age_band_on_the_day_of_the_application(born: object, band: str) -> None:
    assert age_band(born, AT) == band


def test_amount_bands_and_no_amount() -> None:
    assert [amount_band(v) for v in (0, 99.99, 100, 4999, 5000, 20_000, 1e7)] == [
        "0-100", "0-100", "100-1k", "1k-5k", "5k-20k", "20k+", "20k+"]
    assert [amount_band(v) for v in (None, "x", -1, float("nan"), True)] == [None] * 5


def test_each_detector_gets_the_dimensions_its_fields_allow() -> None:
    assert dimensions(get_detector("card-applications")) == ("age_band", "region", "channel", "amount_band")
    assert dimensions(get_detector("card-transactions")) == ("amount_band",)


def test_an_application_segments_without_keeping_what_they_come_from() -> None:
    record = {"date_of_birth": "1990-03-01", "zip": "94105", "channel": "web", "requested_limit": 2500.0,
              "submitted_at": "2026-06-15T10:00:00Z"}
    segments = segments_of(get_detector("card-applications"), record, AT)
    assert segments == {"age_band": "35-44", "region": "pacific", "channel": "web", "amount_band": "1k-5k"}
    assert "1990" not in str(segments) and "94105" not in str(segments)
    assert segments_of(get_detector("card-applications"), {"zip": "x"}, AT)["region"] == "unknown"
    assert segment_pairs(segments) == (("age_band", "35-44"), ("amount_band", "1k-5k"), ("channel", "web"),
                                       ("region", "pacific"))
    assert segment_pairs(None) == ()


def test_fairness_evidence_gives_rates_under_any_strategy() -> None:
    """Two age bands scored apart: under thresholds between them, one is approved, the other declined."""
    from models.segments import fairness_evidence, segment_rates

    detector = get_detector("card-applications")
    young = [{"date_of_birth": "2004-01-01", "zip": "10001"}] * 200
    older = [{"date_of_birth": "1960-01-01", "zip": "90210"}] * 200
    scores = [0.1 + 0.001 * i for i in range(200)] + [0.8 + 0.0005 * i for i in range(200)]
    evidence = fairness_evidence(detector, young + older, [AT] * 400, scores, [0] * 399 + [1])
    assert evidence is not None and set(evidence["dimensions"]) == {"age_band", "region"}
    bands = evidence["dimensions"]["age_band"]
    assert {k: (v["rows"], v["frauds"]) for k, v in bands.items()} == {"18-24": (200, 0), "65+": (200, 1)}
    report = segment_rates(evidence, review=0.5, decline=0.7)["age_band"]
    rates = {s["segment"]: s for s in report["segments"]}
    assert rates["18-24"]["approval_rate"] == 1.0 and rates["65+"]["decline_rate"] == 1.0
    assert report["disparity_ratio"] == 0.0
    half = segment_rates(evidence, review=0.2, decline=0.95)["age_band"]  # half the young under review
    young_rates = {s["segment"]: s for s in half["segments"]}["18-24"]
    assert abs(young_rates["approval_rate"] - 0.5) < 0.03 and abs(young_rates["review_rate"] - 0.5) < 0.03
    assert fairness_evidence(get_detector("card-transactions"), [], [], [], []) is None


def test_four_eyes_decisions() -> None:
    from arbiter.domain.errors import Conflict
    from arbiter.domain.principals import check_decision

    assert check_decision("request 1", "pending", "sam", "gus", "approve") == "approved"
    assert check_decision("request 1", "pending", "sam", "sam", "withdraw") == "withdrawn"
    for status, actor, action, needle in (("pending", "sam", "approve", "four eyes"),
                                          ("pending", "sam", "reject", "four eyes"),
                                          ("pending", "gus", "withdraw", "only sam"),
                                          ("approved", "gus", "reject", "is approved")):
        with pytest.raises(Conflict, match=needle):
            check_decision("request 1", status, "sam", actor, action)
