"""Keyed PII hashing, strategies and rules (pure domain logic)."""

import ipaddress
import json

import pytest
from pydantic import ValidationError

from arbiter.domain.derivations import network_digests, record_derivations, recorded_network
from arbiter.domain.pii import PiiHasher
from arbiter.domain.rules import CompiledRules, RuleInput, RulesError, RuleSetInput, public_view, to_stored
from arbiter.domain.strategies import Strategy, StrategyInput
from models.detectors import get_detector

APPS, TX = get_detector("card-applications"), get_detector("card-transactions")
HASHER = PiiHasher(b"test-key")


def test_hashing_is_keyed_normalised_and_kind_separated() -> None:
    assert HASHER.digest("ssn", "123-45-6789") == HASHER.digest("ssn", "123456789")
    assert HASHER.digest("email", "A@B.com ") == HASHER.digest("email", "a@b.com")
    assert HASHER.digest("email", "x") != HASHER.digest("device_id", "x")
    assert HASHER.digest("ssn", "123456789") != PiiHasher(b"other-key").digest("ssn", "123456789")
    assert HASHER.digest("ssn", "123456789").startswith("h:")


def test_protect_replaces_every_pii_field() -> None:
    record = {"email": "a@b.com", "ssn": "123-45-6789", "income": 5.0, "phone": None, "zip": "02134"}
    protected = HASHER.protect(APPS, record)
    assert protected["income"] == 5.0 and protected["phone"] is None
    for key in ("email", "ssn", "zip"):
        assert protected[key].startswith("h:") and record[key] not in json.dumps(protected)


def test_strategy_thresholds() -> None:
    s = Strategy("d", 3, 0.4, 0.9)
    assert [s.decide(x) for x in (0.0, 0.39, 0.4, 0.89, 0.9, 1.0)] == [
        "approve", "approve", "review", "review", "decline", "decline"]
    with pytest.raises(ValidationError, match="must not exceed"):
        StrategyInput(review_threshold=0.9, decline_threshold=0.5)
    with pytest.raises(ValidationError):
        StrategyInput(review_threshold=float("nan"), decline_threshold=0.5)


def _ruleset() -> RuleSetInput:
    return RuleSetInput(rules=[
        RuleInput(id="bad-email", type="email", action="decline", values=["Fraud@Example.com"]),
        RuleInput(id="bad-ssn", type="ssn", action="decline", values=["111-22-3333"]),
        RuleInput(id="bad-device", type="device", action="review", values=["dev-X"]),
        RuleInput(id="burner", type="email_domain", action="review", values=["@Mailinator.com"]),
        RuleInput(id="tor", type="ip_range", action="review", values=["203.0.113.0/24", "2001:db8::/32"]),
    ])


def test_rules_are_stored_without_clear_identities() -> None:
    body = to_stored(APPS, _ruleset(), HASHER)
    blob = json.dumps(body).lower()
    for secret in ("fraud@example.com", "111-22-3333", "111223333", "dev-x"):
        assert secret not in blob
    assert "mailinator.com" in blob and "203.0.113.0/24" in blob
    view = public_view(body)
    assert view[0]["values"] == {"count": 1, "stored_as": "HMAC-SHA256"}


@pytest.mark.parametrize("record,expected", [
    ({"email": "fraud@example.com", "ssn": "000-00-0000", "ip": "8.8.8.8"}, ["bad-email"]),
    ({"email": "ok@gmail.com", "ssn": "111223333", "ip": "8.8.8.8"}, ["bad-ssn"]),
    ({"email": "x@mailinator.com", "device_id": "DEV-x", "ip": "203.0.113.9"}, ["bad-device", "burner", "tor"]),
    ({"email": "ok@gmail.com", "ip": "2001:db8::1"}, ["tor"]),
    ({"email": "fraud@example.com", "ip": "203.0.113.1"}, ["bad-email", "tor"]),  # decline first
    ({"email": "ok@gmail.com", "ip": "not-an-ip"}, []),
])
def test_rule_hits(record: dict, expected: list[str]) -> None:
    rules = CompiledRules.compile(4, to_stored(APPS, _ruleset(), HASHER))
    assert [h.rule_id for h in rules.evaluate(record, HASHER)] == expected


def test_rules_that_do_not_fit_the_detector_are_refused() -> None:
    with pytest.raises(RulesError, match="has no field 'email'"):
        to_stored(TX, _ruleset(), HASHER)
    bad_net = RuleSetInput(rules=[RuleInput(id="n", type="ip_range", action="review", values=["10.0.0.0/99"])])
    with pytest.raises(RulesError, match="not an IP network"):
        to_stored(APPS, bad_net, HASHER)
    twice = RuleSetInput(rules=[RuleInput(id="a", type="ssn", action="review", values=["1"])] * 2)
    with pytest.raises(RulesError, match="appears twice"):
        to_stored(APPS, twice, HASHER)
    with pytest.raises(ValidationError):
        RuleInput(id="Bad Id!", type="ssn", action="review", values=[])


def test_thresholds_matched_to_rates_on_another_scale() -> None:
    """A model whose scores crowd near 0 declines as many as a champion on a wider scale."""
    import numpy as np

    from arbiter.domain.strategies import matched_thresholds, rates_under

    levels = sorted({*np.linspace(0, 0.9, 91).round(6), *np.linspace(0.9, 0.99, 91).round(6),
                     *np.linspace(0.99, 1.0, 101).round(6)})
    rng = np.random.default_rng(0)
    champion = np.quantile(rng.beta(1, 20, 100_000) * 5, levels).clip(0, 1)  # 1.2% at or above 0.8
    other = np.quantile(rng.beta(1, 200, 100_000), levels)  # an outlier score: everything below 0.05
    wanted = rates_under(champion, 0.5, 0.8, levels)
    review, decline = matched_thresholds(other, *wanted, levels=levels)
    assert 0.0 < review < decline < 0.06
    assert rates_under(other, review, decline, levels) == pytest.approx(wanted, abs=2e-4)
    assert rates_under(other, 0.5, 0.8, levels) == (0.0, 0.0)  # the champion's thresholds decline nothing
    assert matched_thresholds([0.1, 0.2, 0.3], 0.0, 0.0) == (0.3, 0.3)  # evenly spaced levels by default


def test_recorded_derivations_keep_no_pii_in_clear_and_stored_rules_read_them() -> None:
    record = {"full_name": "Ann Lee", "email": "Ann.Lee@Mail-Example.org", "ssn": "123-45-6789", "phone": None,
              "date_of_birth": "1990-01-01", "zip": "02134", "ip": "81.2.69.142", "device_id": "dev-1",
              "income": 5.0, "employment": "employed", "requested_limit": 500.0, "channel": "web",
              "submitted_at": "2026-03-01T12:00:00Z"}
    [derived] = record_derivations(APPS, [record], HASHER)
    assert record_derivations(TX, [{"Amount": 1.0}], HASHER) == [None]  # nothing to keep without PII
    text = json.dumps(derived)
    for clear in ("mail-example.org", "81.2.69", "123-45-6789", "123456789", "dev-1", "1990"):
        assert clear not in text
    assert derived["email_domain"] == HASHER.digest("email_domain", "mail-example.org")
    assert derived["ip_network"] == HASHER.digest("ip_network", "81.2.69.0/24") and derived["age_years"] == 36.0
    assert recorded_network("2001:db8:1:2::9") == "2001:db8:1::/48" and recorded_network("bad") is None

    body = to_stored(APPS, RuleSetInput(rules=[
        RuleInput(id="domain", type="email_domain", action="review", values=["MAIL-example.org"]),
        RuleInput(id="wide", type="ip_range", action="decline", values=["81.2.0.0/16"]),
        RuleInput(id="narrow", type="ip_range", action="decline", values=["81.2.69.142/32"]),
        RuleInput(id="ssn", type="ssn", action="decline", values=["123456789"])]), HASHER)
    stored = CompiledRules.compile(1, body).for_stored(HASHER, frozenset(APPS.pii_fields))
    assert list(stored.unreadable) == ["narrow"] and stored.needs_derivations() == {"domain", "wide"}
    payload = HASHER.protect(APPS, record)
    assert [h.rule_id for h in stored.evaluate(payload, derived)] == ["ssn", "wide", "domain"]  # declines first
    assert [h.rule_id for h in stored.evaluate(payload, None)] == ["ssn"]  # stored before derivations
    [elsewhere] = record_derivations(APPS, [record | {"ip": "81.3.0.1", "email": "a@b.com"}], HASHER)
    assert [h.rule_id for h in stored.evaluate(payload, elsewhere)] == ["ssn"]
    live = CompiledRules.compile(1, body).evaluate(record, HASHER)  # the live check agrees
    assert {h.rule_id for h in live} == {"domain", "wide", "narrow", "ssn"}
    assert len(network_digests(CompiledRules.compile(1, body).networks[0][2], HASHER)) == 256  # /16 = 256 /24s
    assert network_digests([ipaddress.ip_network("10.0.0.0/7")], HASHER) is None  # beyond 65,536 networks
