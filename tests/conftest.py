"""Fixtures shared by unit and integration tests: small seeded data and trained bundles."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from models.dataio import prepare_frame
from models.detectors import get_detector
from models.recipes import get_recipe
from models.synth import synthesize
from models.training import TrainingResult, train

PII_KEY = "integration-test-pii-key"
# the test deployment's ARBITER_PII_KEY, for the whole session: bundles are trained, certified and
# loaded under it (training and runtimes read it from the environment by default), as the platform's
os.environ["ARBITER_PII_KEY"] = PII_KEY


FAST_PARAMS = {
    "rf": {"n_estimators": 20},
    "hgb": {"max_iter": 40},
    "isolation-forest": {"n_estimators": 50},
    "logreg": {},
    "dbscan-outlier": {"max_reference": 5000},
}


@pytest.fixture(scope="session")
def tx_frame() -> pd.DataFrame:
    """8,000 synthetic transactions, 3% fraud, prepared for training."""
    return prepare_frame(synthesize("card-transactions", 8_000, seed=11, fraud_rate=0.03),
                         get_detector("card-transactions"))


@pytest.fixture(scope="session")
def app_frame() -> pd.DataFrame:
    """8,000 synthetic applications, 5% fraud (enriched so a small validation window has enough)."""
    return prepare_frame(synthesize("card-applications", 8_000, seed=12, fraud_rate=0.05),
                         get_detector("card-applications"))


def train_small(frame: pd.DataFrame, detector: str, recipe: str, out: Path, **kwargs) -> TrainingResult:
    return train(get_detector(detector), get_recipe(recipe), frame, out, params=FAST_PARAMS[recipe], seed=3, **kwargs)


@pytest.fixture(scope="session")
def rf_bundle(tx_frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small random forest bundle for card-transactions (read-only: copy before changing)."""
    return train_small(tx_frame, "card-transactions", "rf", tmp_path_factory.mktemp("rf") / "bundle").bundle_dir


@pytest.fixture(scope="session")
def app_logreg_bundle(app_frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A logistic regression bundle for card-applications (read-only)."""
    out = tmp_path_factory.mktemp("logreg") / "bundle"
    return train_small(app_frame, "card-applications", "logreg", out).bundle_dir


@pytest.fixture(scope="session")
def tx_logreg_bundle(tx_frame: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A logistic regression bundle for card-transactions: a second, clearly different model."""
    return train_small(tx_frame, "card-transactions", "logreg", tmp_path_factory.mktemp("txlr") / "bundle").bundle_dir
