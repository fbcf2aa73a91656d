"""Record validation: every problem named with its field, nothing a client sends raises."""

import math

import jsonschema_rs
import pytest

from models.dataio import prepare_frame
from models.detectors import get_detector
from models.synth import synthesize
from models.training import json_record
from models.validation import validate_record

TX, APPS = get_detector("card-transactions"), get_detector("card-applications")


def _tx() -> dict:
    return synthesize("card-transactions", 1, seed=1).drop(columns=["Class"]).iloc[0].to_dict()


def _app() -> dict:
    row = synthesize("card-applications", 1, seed=1).drop(columns=["is_fraud", "application_id"]).iloc[0]
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.to_dict().items()}


def test_synthetic_records_are_valid() -> None:
    for detector, record in ((TX, _tx()), (APPS, _app())):
        clean, errors = validate_record(detector, record)
        assert errors == [], errors
        assert set(clean) == set(detector.field_names)


@pytest.mark.parametrize("field,value,message", [
    ("V1", "1.0", "must be a number"),
    ("V1", True, "must be a number"),
    ("V1", float("nan"), "finite"),
    ("V1", float("inf"), "finite"),
    ("Amount", -1.0, ">= 0"),
    ("Amount", 1e300, "<= 1e+07"),
    ("Time", None, "is required"),
    ("V2", [1, 2], "must be a number"),
])
def test_transaction_field_errors(field: str, value: object, message: str) -> None:
    record = _tx() | {field: value}
    _, errors = validate_record(TX, record)
    assert [(e.field, message in e.message) for e in errors] == [(field, True)]


@pytest.mark.parametrize("field,value,message", [
    ("email", "not-an-email", "invalid format"),
    ("ssn", "12-345", "invalid format"),
    ("ip", "999.1.1.1", "IP"),
    ("employment", "astronaut", "one of"),
    ("submitted_at", "yesterday", "ISO 8601"),
    ("date_of_birth", "1990-13-45", "ISO 8601"),
    ("full_name", "a\x00b", "control characters"),
    ("full_name", "x" * 5000, "at most 200"),
    ("device_id", 42, "must be a string"),
])
def test_application_field_errors(field: str, value: object, message: str) -> None:
    _, errors = validate_record(APPS, _app() | {field: value})
    assert len(errors) == 1 and errors[0].field == field and message in errors[0].message


def test_extra_and_missing_fields_are_all_named() -> None:
    record = _tx()
    del record["V7"]
    record["surprise"] = 1
    _, errors = validate_record(TX, record)
    assert {e.field for e in errors} == {"V7", "surprise"}


def test_odd_unicode_text_is_accepted_and_optional_fields_may_be_absent() -> None:
    record = _app() | {"full_name": "Zoë 李 \U0001f600 O'Brien"}
    record.pop("phone")
    clean, errors = validate_record(APPS, record)
    assert errors == [] and clean["phone"] is None


def test_times_are_normalised_to_utc() -> None:
    clean, errors = validate_record(APPS, _app() | {"submitted_at": "2026-03-01T14:00:00+02:00"})
    assert errors == [] and clean["submitted_at"] == "2026-03-01T12:00:00Z"


def test_not_an_object() -> None:
    for bad in (None, [], "x", 3):
        _, errors = validate_record(TX, bad)
        assert errors[0].field == "data"


@pytest.mark.parametrize("name", ["card-applications", "card-transactions"])
def test_the_published_schema_says_what_validation_says(name: str) -> None:
    detector = get_detector(name)
    schema = jsonschema_rs.validator_for(detector.data_schema(), validate_formats=True)  # as generators read it
    frame = prepare_frame(synthesize(name, 300, 3, 0.1), detector)
    for row in frame[detector.field_names].to_dict("records"):
        record = json_record(row)
        assert not validate_record(detector, record)[1] and schema.is_valid(record), record
        for field in detector.fields:  # a control character, a wrong type: refused by both
            for bad in ("x\x01y", [1]):
                changed = record | {field.name: bad}
                assert bool(validate_record(detector, changed)[1]) == (not schema.is_valid(changed))
        break_once = record | {"unknown": 1}
        assert validate_record(detector, break_once)[1] and not schema.is_valid(break_once)
