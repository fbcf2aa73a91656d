"""Default strategies and rules seeded into Postgres, then versioned."""

import json

import pytest

from arbiter.bootstrap import Platform
from arbiter.domain.rules import CompiledRules
from arbiter.store import config_repo
from models.synth.applications import KNOWN_FRAUD_EMAILS, KNOWN_FRAUD_SSNS
from tests.helpers import load_synthetic_rules

pytestmark = pytest.mark.integration


def test_defaults_are_seeded_once_with_empty_deny_lists_and_synthetic_ones_load_hashed(platform: Platform) -> None:
    platform.upgrade_database()  # a second run must not add versions
    with platform.sessions() as session:
        for detector in ("card-applications", "card-transactions"):
            strategy = config_repo.current_strategy(session, detector)
            assert strategy is not None and strategy.version == 1
            seeded = config_repo.current_rules(session, detector)
            assert seeded.version == 1 and seeded.body == {"rules": []}  # production starts clean
    load_synthetic_rules(platform)
    with platform.sessions() as session:
        rules = config_repo.current_rules(session, "card-applications")
    blob = json.dumps(rules.body)
    assert KNOWN_FRAUD_EMAILS[0] not in blob and KNOWN_FRAUD_SSNS[0] not in blob
    compiled = CompiledRules.compile(rules.version, rules.body)
    hits = compiled.evaluate({"email": KNOWN_FRAUD_EMAILS[3], "ssn": "000-00-0001"}, platform.hasher)
    assert [h.rule_id for h in hits] == ["known-fraud-email"]


def test_new_versions_never_edit_old_ones(platform: Platform) -> None:
    with platform.sessions() as session, session.begin():
        config_repo.add_strategy(session, "card-transactions", 0.2, 0.6, actor="strategist")
    with platform.sessions() as session:
        current = config_repo.current_strategy(session, "card-transactions")
        assert (current.version, current.review_threshold, current.created_by) == (2, 0.2, "strategist")
        assert config_repo.as_strategy(current).decide(0.7) == "decline"
