"""Feature transforms: one implementation, the same matrix on the training and serving paths."""

import json

import numpy as np
import pandas as pd
import pytest

from models.detectors import get_detector
from models.features import (
    FeatureBuilder,
    ReuseTable,
    columns_from_frame,
    epoch_seconds,
    pii_derived,
    recorded_derivations,
)
from models.training import json_record

APPS = get_detector("card-applications")


def _record(**overrides):
    base = {
        "full_name": "Ann Lee", "email": "ann.lee@gmail.com", "ssn": "123-45-6789", "phone": None,
        "date_of_birth": "1990-01-01", "zip": "02134", "ip": "81.2.69.142", "device_id": "dev-1",
        "income": 50_000.0, "employment": "employed", "requested_limit": 5000.0, "channel": "web",
        "submitted_at": "2026-03-01T12:00:00Z",
    }
    return base | overrides


@pytest.fixture(scope="module")
def fitted(app_frame: pd.DataFrame) -> FeatureBuilder:
    return FeatureBuilder(APPS).fit(columns_from_frame(app_frame))


def test_raw_pii_columns_are_never_features(fitted: FeatureBuilder) -> None:
    for pii in ("email", "ssn", "ip", "device_id", "phone", "full_name", "zip", "date_of_birth"):
        assert fitted.dropped[pii] == "PII: used only through derived features", pii
    assert not any(name.split("=")[0] in APPS.pii_fields for name in fitted.feature_names)


def test_constant_columns_are_dropped() -> None:
    frame = pd.DataFrame([_record(employment="employed") for _ in range(50)])
    fb = FeatureBuilder(APPS).fit(columns_from_frame(frame))
    assert fb.dropped["employment"] == "constant (cardinality 1)"
    assert fb.dropped["income"] == "constant (cardinality 1)"


def test_records_path_equals_frame_path(fitted: FeatureBuilder, app_frame: pd.DataFrame) -> None:
    part = app_frame.iloc[:300]
    from_frame = fitted.transform(columns_from_frame(part))
    records = json.loads(part[APPS.field_names].to_json(orient="records"))
    assert np.array_equal(fitted.transform_records(records), from_frame)


def test_roundtrip_through_json_gives_the_same_matrix(fitted: FeatureBuilder, app_frame: pd.DataFrame) -> None:
    restored = FeatureBuilder.from_dict(APPS, json.loads(json.dumps(fitted.to_dict())))
    cols = columns_from_frame(app_frame.iloc[:500])
    assert np.array_equal(restored.transform(cols), fitted.transform(cols))
    assert restored.feature_names == fitted.feature_names


def test_reuse_tables_are_keyed_by_the_deployment_not_the_bundle(app_frame: pd.DataFrame) -> None:
    from models.identity import key_fingerprint

    key = b"the bank's own ARBITER_PII_KEY"
    fb = FeatureBuilder(APPS).fit(columns_from_frame(app_frame), identity_key=key)
    stored = json.loads(json.dumps(fb.to_dict()))
    assert all(set(table) == {"counts"} for table in stored["reuse"].values())  # no key travels
    assert key.hex() not in json.dumps(stored) and stored["identity_key_fingerprint"] == key_fingerprint(key)
    cols = columns_from_frame(app_frame.iloc[:300])
    same = FeatureBuilder.from_dict(APPS, stored, identity_key=key)
    assert np.array_equal(same.transform(cols), fb.transform(cols))
    assert fb.transform(cols)[:, fb.feature_names.index("ssn_reuse")].max() > 0  # the reuse path is exercised
    with pytest.raises(ValueError, match="another ARBITER_PII_KEY"):
        FeatureBuilder.from_dict(APPS, stored, identity_key=b"someone else's key")


def test_no_identity_value_is_stored_in_clear(fitted: FeatureBuilder, app_frame: pd.DataFrame) -> None:
    blob = json.dumps(fitted.to_dict())
    for column in ("ssn", "device_id", "email"):
        for value in app_frame[column].head(200):
            assert value not in blob


def test_missing_numbers_get_the_median_and_an_indicator(fitted: FeatureBuilder) -> None:
    names = fitted.feature_names
    row = fitted.transform_records([_record(income=None)])[0]
    spec = next(s for s in fitted.numeric if s["name"] == "income")
    assert row[names.index("income")] == pytest.approx(spec["median"])
    assert row[names.index("income__missing")] == 1.0


def test_unseen_category_is_all_zero(fitted: FeatureBuilder) -> None:
    names = fitted.feature_names
    row = fitted.transform_records([_record(email="x@never-seen.example")])[0]
    domain_cols = [i for i, n in enumerate(names) if n.startswith("email_domain=")]
    assert domain_cols and not row[domain_cols].any()
    gmail = fitted.transform_records([_record()])[0]
    assert gmail[names.index("email_domain=gmail.com")] == 1.0


def test_derived_values() -> None:
    frame = pd.DataFrame([_record(), _record(ssn="123456789", device_id="dev-2", zip="98101")] * 3
                         + [_record(ssn="999-99-9999", device_id="dev-3", employment="retired",
                                    date_of_birth="1950-06-01", submitted_at="2026-03-02T03:00:00Z")])
    fb = FeatureBuilder(APPS).fit(columns_from_frame(frame))
    names = fb.feature_names
    train = fb.transform(columns_from_frame(frame), reference_rows=True)
    # "123-45-6789" and "123456789" are the same SSN: 6 rows, so 5 others for a reference row
    assert train[0, names.index("ssn_reuse")] == 5.0
    assert train[-1, names.index("ssn_reuse")] == 0.0
    served = fb.transform_records([_record(), _record(ssn="000-00-0000", device_id="new")])
    assert served[0, names.index("ssn_reuse")] == 6.0  # a new application sees all six
    assert served[1, names.index("ssn_reuse")] == 0.0
    assert served[0, names.index("age_years")] == 36.0  # 36.16 years: whole years, since features v2
    assert served[0, names.index("hour_of_day")] == pytest.approx(12.0)
    assert served[0, names.index("zip_ip_distance_km")] >= 0.0


def test_reuse_table_keeps_only_repeated_values_as_digests() -> None:
    table = ReuseTable.fit(np.array(["a", "a", "b", None], dtype=object), b"k" * 32)
    assert list(table.counts.values()) == [2]
    assert "a" not in table.counts


def test_epoch_seconds_parses_iso_and_passes_numbers() -> None:
    got = epoch_seconds(np.array(["1970-01-02T00:00:00Z", "bad", None], dtype=object), "datetime")
    assert got[0] == 86400.0 and np.isnan(got[1]) and np.isnan(got[2])
    assert epoch_seconds(np.array([1.5, 2.0]), "seconds").tolist() == [1.5, 2.0]


def test_epoch_seconds_is_independent_of_pandas_resolution() -> None:
    # pandas 3 keeps second resolution for such strings; the result must still be in seconds
    text = np.array(["2026-01-01T00:00:00Z", "2026-01-01"], dtype=object)
    native = np.array(["2026-01-01T00:00:00"], dtype="datetime64[s]")
    expected = 1767225600.0
    assert epoch_seconds(text, "datetime").tolist() == [expected, expected]
    assert epoch_seconds(native, "datetime").tolist() == [expected]


def _edge_cases(records: list[dict], detector_name: str) -> list[dict]:
    """Records the single-record path must read exactly as the column-wise path does."""
    first = records[0]
    out = [{k: v for i, (k, v) in enumerate(first.items()) if i % 3 != j} for j in range(3)]  # keys left out
    out += [{k: None for k in first}, {}]  # everything missing
    numeric = [k for k, v in first.items() if isinstance(v, float)]
    out += [first | {k: 0} for k in numeric[:3]]  # ints where floats were
    out += [first | {k: -1e308} for k in numeric[:2]]  # huge values, rounded to float32 the same way
    out += [first | {k: 16_777_217} for k in numeric[:2]]  # an int that float32 cannot hold: via float64
    if detector_name == "card-applications":
        out += [first | {"zip": "00000", "ip": "10.0.0.1"}, first | {"zip": "9", "ip": "::1"}, first | {"ip": ""},
                first | {"email": "no-at-sign"}, first | {"email": "A@EXAMPLE.COM"}, first | {"email": ""},
                first | {"channel": "carrier-pigeon"}, first | {"date_of_birth": "not a date"},
                first | {"submitted_at": "2026-03-01T23:59:59.999999+14:00"}, first | {"device_id": ""}]
    else:
        out += [first | {"Time": t} for t in (86_399.999999, 86_400.0, 0, None)]
    return out


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # -1e308 is -inf in float32
@pytest.mark.parametrize("detector_name", ["card-applications", "card-transactions"])
def test_one_record_path_equals_the_column_path_to_the_bit(detector_name: str, app_frame: pd.DataFrame,
                                                            tx_frame: pd.DataFrame) -> None:
    detector = get_detector(detector_name)
    frame = app_frame if detector_name == "card-applications" else tx_frame
    fb = FeatureBuilder(detector).fit(columns_from_frame(frame))
    records = json.loads(frame[detector.field_names].iloc[:400].to_json(orient="records"))
    records += _edge_cases(records, detector_name)
    for record in records:
        one = fb.transform_one(record)
        assert one is not None, record
        column_wise = fb.transform_records([record, record])[:1]  # two records: the column-wise path
        assert one.dtype == column_wise.dtype == np.float32 and one.shape == column_wise.shape
        assert one.tobytes() == column_wise.tobytes(), (record, fb.feature_names)
        assert fb.transform_records([record]).tobytes() == one.tobytes()


def test_a_record_only_the_column_path_reads_falls_back_to_it(tx_frame: pd.DataFrame) -> None:
    detector = get_detector("card-transactions")
    fb = FeatureBuilder(detector).fit(columns_from_frame(tx_frame))
    record = json.loads(tx_frame[detector.field_names].iloc[:1].to_json(orient="records"))[0] | {"Time": "3600"}
    assert fb.transform_one(record) is None  # text in a numeric field: pandas coerces it column-wise
    assert fb.transform_records([record]).tobytes() == fb.transform_records([record, record])[:1].tobytes()


def _stored(record: dict, fb: FeatureBuilder, key: bytes) -> dict:
    """`record` as a backtest reads it back: PII fields replaced by opaque hashes, the recorded
    derivations added (the e-mail domain in clear, as the backtest maps its keyed hash back to a level)."""
    hashed = {k: (f"h:{abs(hash(str(v)))}" if k in APPS.pii_fields and v is not None else v) for k, v in record.items()}
    return hashed | recorded_derivations(APPS, [record], key)[0]


def test_recorded_derivations_reproduce_the_features_without_the_pii(app_frame: pd.DataFrame) -> None:
    key = b"k" * 32
    fb = FeatureBuilder(APPS).fit(columns_from_frame(app_frame), key)
    assert fb.unreproducible(key) == []
    records = [json_record(r) for r in app_frame[APPS.field_names].head(300).to_dict(orient="records")]
    stored = [_stored(r, fb, key) for r in records]
    batch = recorded_derivations(APPS, records, key)  # column-wise: the same values as one at a time
    assert batch == [recorded_derivations(APPS, [r], key)[0] for r in records]
    assert any(s["ssn_reuse"] in fb.reuse["ssn_reuse"].counts for s in stored)  # reused identities among them
    assert set(batch[0]) == {d.name for d in pii_derived(APPS)}
    assert "hour_of_day" not in stored[0]  # read from submitted_at, which is stored as it came
    clear = fb.transform_records(records)
    assert np.array_equal(fb.transform_records(stored), clear)  # the column-wise path
    for one, row in zip(stored[:50], clear[:50], strict=True):  # the one-record path
        assert np.array_equal(fb.transform_records([one])[0], row)
    # another deployment's key: the reuse digests match nothing, and the builder says so
    assert fb.unreproducible(b"o" * 32) == ["its reuse tables are digested under a key of its own, not this "
                                            "deployment's"]


def test_features_v1_keep_fractional_ages_and_cannot_be_reproduced() -> None:
    frame = pd.DataFrame([_record(), _record(date_of_birth="1980-05-05", email="b@yahoo.com")] * 4)
    fb = FeatureBuilder(APPS).fit(columns_from_frame(frame), b"k" * 32)
    v1 = FeatureBuilder.from_dict(APPS, fb.to_dict() | {"version": 1}, b"k" * 32)
    names = v1.feature_names
    assert v1.transform_records([_record()])[0, names.index("age_years")] == pytest.approx(36.16, abs=0.01)
    assert fb.transform_records([_record()])[0, names.index("age_years")] == 36.0
    assert v1.unreproducible(b"k" * 32) == ["its age is in fractions of a year (features v1); ages are recorded "
                                            "in whole years"]
