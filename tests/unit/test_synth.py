"""Synthetic data: deterministic, shaped like the real thing, with learnable fraud patterns."""

import numpy as np
import pandas as pd

from models import geo
from models.detectors import get_detector
from models.features import FeatureBuilder, columns_from_frame
from models.synth import synthesize
from models.synth.applications import DISPOSABLE_DOMAINS, KNOWN_FRAUD_EMAILS


def test_same_seed_same_data_other_seed_other_data() -> None:
    for detector in ("card-transactions", "card-applications"):
        a, b = synthesize(detector, 3000, seed=5), synthesize(detector, 3000, seed=5)
        pd.testing.assert_frame_equal(a, b)
        assert not synthesize(detector, 3000, seed=6).equals(a)


def test_transactions_look_like_the_kaggle_file() -> None:
    frame = synthesize("card-transactions", 100_000, seed=1)
    assert list(frame.columns) == ["Time", *[f"V{i}" for i in range(1, 29)], "Amount", "Class"]
    assert frame["Time"].is_monotonic_increasing
    assert frame["Time"].min() >= 0 and frame["Time"].max() < 48 * 3600
    assert 0.0010 < frame["Class"].mean() < 0.0025  # about 0.17%
    legit = frame[frame["Class"] == 0]
    stds = legit[[f"V{i}" for i in range(1, 29)]].std().to_numpy()
    assert stds[0] > stds[13] > stds[27]  # decreasing variance, as PCA components
    assert (legit["Amount"] >= 0).all() and legit["Amount"].median() < legit["Amount"].mean()  # log-normal skew
    hours = (legit["Time"] % 86400) // 3600
    assert (hours.between(2, 5)).mean() < (hours.between(12, 15)).mean()  # daily cycle: quiet nights


def test_transactions_fraud_differs_where_real_fraud_does() -> None:
    frame = synthesize("card-transactions", 50_000, seed=2, fraud_rate=0.05)
    fraud, legit = frame[frame["Class"] == 1], frame[frame["Class"] == 0]
    for component in ("V14", "V12", "V10"):  # strongly negative in the real fraud rows
        assert fraud[component].mean() < legit[component].mean() - 1.0


def test_applications_carry_pii_and_the_seed_fraud_patterns() -> None:
    frame = synthesize("card-applications", 60_000, seed=3, fraud_rate=0.05)
    detector = get_detector("card-applications")
    assert set(detector.field_names) <= set(frame.columns)
    fraud = frame["is_fraud"] == 1
    domain = frame["email"].str.split("@").str[-1]
    disposable = domain.isin(DISPOSABLE_DOMAINS)
    assert disposable[fraud].mean() > 10 * disposable[~fraud].mean()
    assert frame.loc[fraud, "email"].isin(KNOWN_FRAUD_EMAILS).mean() > 0.05
    assert not frame.loc[~fraud, "email"].isin(KNOWN_FRAUD_EMAILS).any()
    far = geo.region_distance_km([geo.zip_region(z) for z in frame["zip"]], [geo.ip_region(i) for i in frame["ip"]])
    assert np.nanmean(far[fraud.to_numpy()]) > 2 * np.nanmean(far[~fraud.to_numpy()])
    device_uses = frame["device_id"].map(frame["device_id"].value_counts())
    assert (device_uses[fraud] > 1).mean() > 3 * (device_uses[~fraud] > 1).mean()
    assert frame["income"].isna().any() and frame["phone"].isna().any()


def test_synthetic_applications_need_the_derived_features() -> None:
    frame = synthesize("card-applications", 5_000, seed=4)
    fb = FeatureBuilder(get_detector("card-applications")).fit(columns_from_frame(frame))
    for derived in ("zip_ip_distance_km", "ssn_reuse", "device_reuse", "age_years", "hour_of_day"):
        assert derived in fb.feature_names
    assert any(name.startswith("email_domain=") for name in fb.feature_names)
