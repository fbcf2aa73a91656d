"""Backtesting a rules proposal: on the applications a live run stored, it counts the hits the live
run's rules produced (identities, e-mail domains and IP networks compared as keyed hashes), with
labels and amounts, names the rules it cannot evaluate on stored data, and says which decisions
would change."""

from __future__ import annotations

import ipaddress
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from arbiter.bootstrap import Platform
from arbiter.domain.errors import Conflict
from arbiter.domain.rules import RuleInput, RuleSetInput
from arbiter.domain.strategies import StrategyInput
from arbiter.gateway.app import create_app
from arbiter.governance.configuration import synthetic_rules
from arbiter.governance.promotion import promote
from arbiter.governance.proposals import submit_rules, submit_strategy
from arbiter.governance.registry import register_bundle
from arbiter.insights.rules_backtest import backtest_rules
from arbiter.store import tables
from models.synth import synthesize
from tests.helpers import assert_one_line_error, load_synthetic_rules, run, wait_until

pytestmark = pytest.mark.integration
N = 300


def test_a_rules_backtest_counts_the_hits_a_live_run_produced(platform: Platform, app_logreg_bundle: Path,
                                                             cli_env: dict[str, str]) -> None:
    load_synthetic_rules(platform)  # live: known fraudulent e-mails and SSNs, disposable domains
    promote(platform, register_bundle(platform, app_logreg_bundle).model.id, reason="champion", actor="t", force=True)
    platform.settings.api_keys = None
    started = datetime.now(UTC) - timedelta(minutes=1)
    frame = synthesize("card-applications", N, seed=31, fraud_rate=0.2).drop(columns=["is_fraud"])
    live: dict[str, int] = {}
    with TestClient(create_app(platform, refresh_interval=60)) as client:
        client.app.state.serving.refresh()
        for i, row in enumerate(frame.to_dict(orient="records")):
            data = {k: v for k, v in row.items()
                    if k != "application_id" and not (isinstance(v, float) and math.isnan(v))}
            r = client.post("/v1/detectors/card-applications/score", json={"application_id": f"rb-{i}", "data": data})
            assert r.status_code == 200, r.text
            for reason in r.json()["reasons"]:
                if reason.startswith("rule:"):
                    live[reason[5:]] = live.get(reason[5:], 0) + 1

        def stored() -> bool:
            with platform.sessions() as session:
                return session.scalar(select(func.count()).select_from(tables.Decision)) == N
        assert wait_until(stored, timeout=60)
    assert live.get("known-fraud-email", 0) + live.get("known-fraud-ssn", 0) > 5, live  # the run hit identity rules

    # the same lists, plus a new SSN rule, proposed under four eyes: pending, and backtested
    platform.settings.governance = "four-eyes"
    proposed = synthetic_rules("card-applications")
    ssns = [str(s) for s in frame["ssn"].dropna().head(3)]
    ips = [ipaddress.ip_address(ip) for ip in frame["ip"].dropna()]
    networks = sorted({str(ipaddress.ip_network(f"{ip}/16", strict=False)) for ip in ips[:3] if ip.version == 4})
    in_networks = sum(any(ip in ipaddress.ip_network(n) for n in networks) for ip in ips)
    rules = RuleSetInput(rules=[*proposed.rules, RuleInput(id="new-ssn", type="ssn", action="review", values=ssns),
                                RuleInput(id="new-networks", type="ip_range", action="review", values=networks),
                                RuleInput(id="one-address", type="ip_range", action="review", values=[f"{ips[0]}/32"])],
                         note="more lists")
    submitted = submit_rules(platform, "card-applications", rules, actor="sam")
    assert submitted.pending
    result = backtest_rules(platform, submitted.record["id"], started)
    assert result["applications"] == N
    hits = {r["id"]: r for r in result["rules"]}
    assert live.get("disposable-email-domain", 0) > 0, live
    for rule_id in ("known-fraud-email", "known-fraud-ssn", "disposable-email-domain"):
        assert hits[rule_id]["hits"] == live.get(rule_id, 0), (rule_id, hits, live)  # what the live run produced
    assert hits["new-ssn"]["hits"] >= 3  # the three applications whose SSNs it lists (and any sharing them)
    assert networks and hits["new-networks"]["hits"] == in_networks > 0  # /16s against the recorded /24s
    # one address is narrower than the /24 recorded of each IP: named, not guessed
    assert [r["id"] for r in result["not_backtestable"]] == ["one-address"] and "one-address" not in hits
    assert result["without_derivations"] == 0
    changed = {(c["from"], c["to"]): c["applications"] for c in result["changed"]}
    assert sum(n for (was, to), n in changed.items() if to == "review") >= 1  # the new rule sends some to review
    assert all(h["hits"] == h["frauds"] + h["legit"] + h["unlabelled"] for h in hits.values())
    assert "rb-0" not in json.dumps(result) and ssns[0] not in json.dumps(result)  # counts, never identities

    # the CLI and the admin API answer the same; a strategy proposal is refused
    proc = run(cli_env, "proposals", "backtest", str(submitted.record["id"]), "--since", started.isoformat(),
               "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rules"] == result["rules"]
    strategy = submit_strategy(platform, "card-applications", StrategyInput(review_threshold=0.3,
                                                                            decline_threshold=0.9), actor="sam")
    with pytest.raises(Conflict, match="only rules proposals"):
        backtest_rules(platform, strategy.record["id"], started)
    assert_one_line_error(run(cli_env, "proposals", "backtest", "99999"), "no proposal 99999")
