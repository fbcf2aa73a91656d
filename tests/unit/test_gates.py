"""The promotion gates as pure functions over numbers (domain/gates.py)."""

from __future__ import annotations

import pytest

from arbiter.domain.delong import PairedAuc
from arbiter.domain.gates import (
    Candidate,
    Coverage,
    DecisionRates,
    Evidence,
    Paired,
    PromotionPolicy,
    evaluate,
    failed,
    passed,
)

POLICY = PromotionPolicy(min_shadow=100, auc_tolerance=0.01, certification_tolerance=1e-5, min_labelled=400,
                         min_frauds=20)
CERTIFIED = {"passed": True, "max_abs_diff": 1e-7}
COVERED = Coverage(published=1000, scored=1000, dead_lettered=0)
RATES = DecisionRates(paired=500, challenger_decline=0.020, champion_decline=0.021, challenger_review=0.05,
                      champion_review=0.05)


def _evidence(delta_low: float = -0.004, *, labelled: int = 400, frauds: int = 20, complete: bool = True,
              rates: DecisionRates = RATES) -> Evidence:
    auc = PairedAuc(frauds, labelled - frauds, 0.9, 0.905, -0.005, 0.0005, delta_low, -0.005 + (-0.005 - delta_low))
    return Evidence(Paired(500, 0.9, labelled, 0.9, 0.905), labelled, frauds, auc, complete, rates)


def _gates(evidence: Evidence | None = None, *, shadow: int = 100, coverage: Coverage | None = COVERED,
           candidate: Candidate | None = None, policy: PromotionPolicy = POLICY,
           disparity: dict[str, float | None] | None = None) -> dict:
    candidate = candidate or Candidate("d", "shadow", CERTIFIED)
    return evaluate(candidate, "d", policy, shadow_scores=shadow, coverage=coverage, evidence=evidence,
                    disparity=disparity)


def test_a_good_challenger_passes_every_gate() -> None:
    gates = _gates(_evidence())
    assert passed(gates) and list(gates) == ["registered", "certified", "shadow_volume", "shadow_coverage",
                                             "evidence", "auc_vs_champion", "decision_rates", "fairness"]
    auc = gates["auc_vs_champion"]
    assert auc["delta"] == pytest.approx(-0.005) and auc["ci_low"] == -0.004 and auc["paired"] == 500
    assert auc["detail"] == ("AUC 0.9000 vs 0.9050: difference -0.0050, 95% interval [-0.0040, -0.0060] "
                             "(lower bound at least -0.0100)")
    assert all(isinstance(g["detail"], str) and g["detail"] for g in gates.values())


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"candidate": Candidate("other", "shadow", CERTIFIED)}, ["registered"]),
    ({"candidate": Candidate("d", "champion", CERTIFIED)}, ["registered"]),
    ({"candidate": Candidate("d", "shadow", {"passed": True, "max_abs_diff": 2e-5})}, ["certified"]),
    ({"candidate": Candidate("d", "shadow", {"passed": False, "max_abs_diff": 0.0})}, ["certified"]),
    ({"candidate": Candidate("d", "shadow", {})}, ["certified"]),
    ({"shadow": 99}, ["shadow_volume"]),
    ({"coverage": None}, ["shadow_coverage"]),
    ({"coverage": Coverage(100_000, 99_899, 0)}, ["shadow_coverage"]),
    ({"coverage": Coverage(1000, 1000, 1)}, ["shadow_coverage"]),
    ({"evidence": _evidence(-0.0101)}, ["auc_vs_champion"]),
    ({"evidence": _evidence(labelled=399)}, ["evidence", "auc_vs_champion"]),
    ({"evidence": _evidence(frauds=19)}, ["evidence", "auc_vs_champion"]),
    ({"evidence": _evidence(complete=False)}, ["auc_vs_champion"]),
    ({"evidence": _evidence(rates=DecisionRates(500, 0.03, 0.02, 0.05, 0.05))}, ["decision_rates"]),
    ({"evidence": _evidence(rates=DecisionRates(500, 0.02, 0.02, 0.05, 0.0349))}, ["decision_rates"]),
    ({"evidence": _evidence(rates=DecisionRates(0, 0.0, 0.0, 0.0, 0.0))}, ["decision_rates"]),
    ({"disparity": {"age_band": 0.79, "region": 0.95}}, ["fairness"]),
    ({"disparity": {"age_band": None, "region": 0.95}}, ["fairness"]),
    ({"disparity": {}}, ["fairness"]),
])
def test_each_gate_refuses_on_its_own(kwargs: dict, expected: list[str]) -> None:
    kwargs.setdefault("evidence", _evidence())
    assert failed(_gates(**kwargs)) == expected


def test_unknown_model_has_only_the_registered_gate() -> None:
    assert failed(evaluate(None, "d", POLICY)) == ["registered"]


def test_no_labels_is_insufficient_evidence_with_the_counts() -> None:
    """Shadow scores without mature labels used to pass the AUC gate; they refuse now."""
    empty = Evidence(Paired(1000, 0.97, 0, None, None), 0, 0, None, True, RATES)
    gates = _gates(empty)
    assert failed(gates) == ["evidence", "auc_vs_champion"]
    assert gates["evidence"]["detail"] == ("insufficient evidence: 0 mature labelled applications scored by both "
                                           "(at least 400), 0 of them frauds (at least 20)")
    assert gates["auc_vs_champion"]["detail"] == "insufficient evidence (see the evidence gate)"


def test_no_champion_leaves_the_comparison_gates_open() -> None:
    gates = _gates(None)
    assert passed(gates)
    for name in ("evidence", "auc_vs_champion", "decision_rates"):
        assert gates[name] == {"passed": True, "detail": "no current champion"}


def test_the_bounds_are_inclusive() -> None:
    policy = PromotionPolicy(min_shadow=100, auc_tolerance=0.25, certification_tolerance=1e-5, min_labelled=400,
                             min_frauds=20, rate_tolerance=0.5)
    rates = DecisionRates(500, 0.03, 0.02, 0.05, 0.05)  # decline +50% of the champion's: exactly the tolerance
    gates = _gates(_evidence(-0.25, rates=rates), policy=policy, coverage=Coverage(1000, 999, 0))
    assert passed(gates), failed(gates)


def test_small_rates_may_move_half_a_point() -> None:
    gates = _gates(_evidence(rates=DecisionRates(500, 0.006, 0.001, 0.0, 0.0)))  # x6, but 0.5 points
    assert gates["decision_rates"]["passed"]


def test_fairness_gate_reports_each_dimension_and_can_be_turned_off() -> None:
    gate = _gates(_evidence(), disparity={"age_band": 0.8, "region": 0.912})["fairness"]
    assert gate["passed"] and gate["detail"] == ("disparity ratio (lowest approval rate over highest) age_band 0.800, "
                                                 "region 0.912 (at least 0.8)")
    refused = _gates(_evidence(), disparity={"age_band": 0.5, "region": 0.9})["fairness"]
    assert not refused["passed"] and refused["detail"].endswith("too low or too few applications per group: age_band")
    off = PromotionPolicy(min_shadow=100, auc_tolerance=0.01, certification_tolerance=1e-5, min_labelled=400,
                          min_frauds=20, min_disparity=0.0)
    assert _gates(_evidence(), disparity={"age_band": 0.1}, policy=off)["fairness"]["passed"]
    assert _gates(_evidence())["fairness"] == {"passed": True,
                                               "detail": "no age bands or regions recorded for this detector"}
