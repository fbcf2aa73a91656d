"""Detector declarations and the gazetteer."""

import math

import numpy as np
import pytest

from models import geo
from models.detectors import DETECTORS, UnknownDetectorError, get_detector


def test_both_detectors_are_declared_once_with_label_and_time() -> None:
    assert set(DETECTORS) == {"card-applications", "card-transactions"}
    tx = get_detector("card-transactions")
    assert tx.field_names == ["Time", *[f"V{i}" for i in range(1, 29)], "Amount"]
    assert (tx.label, tx.time_field, tx.time_kind) == ("Class", "Time", "seconds")
    apps = get_detector("card-applications")
    assert set(apps.pii_fields) == {"full_name", "email", "ssn", "phone", "date_of_birth", "zip", "ip", "device_id"}
    assert apps.label == "is_fraud" and apps.time_kind == "datetime"


def test_fingerprint_is_stable_and_distinguishes_detectors() -> None:
    tx, apps = get_detector("card-transactions"), get_detector("card-applications")
    assert tx.fingerprint() == get_detector("card-transactions").fingerprint()
    assert tx.fingerprint() != apps.fingerprint()
    assert len(tx.fingerprint()) == 64


def test_unknown_detector_names_the_known_ones() -> None:
    with pytest.raises(UnknownDetectorError, match="card-applications"):
        get_detector("nope")


def test_zip_and_ip_regions() -> None:
    assert geo.zip_region("02134") == 0  # Boston area
    assert geo.zip_region("98101") == geo.N_REGIONS - 1  # Seattle area
    assert geo.zip_region("abc") == -1 and geo.zip_region(None) == -1
    assert geo.ip_region("10.1.2.3") == -1  # private
    assert geo.ip_region("2001:db8::1") == -1
    assert 0 <= geo.ip_region("81.2.69.142") < geo.N_REGIONS


def test_region_distance() -> None:
    d = geo.region_distance_km(np.array([0, 0, -1]), np.array([0, geo.N_REGIONS - 1, 3]))
    assert d[0] == 0.0
    assert 3_500 < d[1] < 4_500  # Boston -> Seattle, about 4,000 km
    assert math.isnan(d[2])
