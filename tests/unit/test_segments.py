"""Segments derived when an application is recorded (domain/segments.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from arbiter.domain.segments import age_band, amount_band, dimensions, segment_pairs, segments_of
from models.detectors import get_detector

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
