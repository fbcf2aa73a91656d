"""The promotion gates as pure functions over numbers (domain/gates.py)."""

from __future__ import annotations

import pytest

from arbiter.domain.gates import Candidate, Paired, PromotionPolicy, evaluate, failed, passed

POLICY = PromotionPolicy(min_shadow=100, auc_tolerance=0.01, certification_tolerance=1e-5)
CERTIFIED = {"passed": True, "max_abs_diff": 1e-7}


def _paired(challenger: float | None, champion: float | None) -> Paired:
    return Paired(paired=500, agreement_rate=0.9, labelled=400, challenger_auc=challenger, champion_auc=champion)


def test_a_good_challenger_passes_every_gate() -> None:
    gates = evaluate(Candidate("d", "shadow", CERTIFIED), "d", POLICY, shadow_scores=100, paired=_paired(0.9, 0.905))
    assert passed(gates) and list(gates) == ["registered", "certified", "shadow_volume", "auc_vs_champion"]
    assert gates["auc_vs_champion"]["delta"] == pytest.approx(-0.005)
    assert gates["auc_vs_champion"]["paired"] == 500 and gates["auc_vs_champion"]["labelled"] == 400


@pytest.mark.parametrize(("candidate", "shadow", "paired", "expected"), [
    (None, 0, None, ["registered"]),
    (Candidate("other", "shadow", CERTIFIED), 100, None, ["registered"]),
    (Candidate("d", "champion", CERTIFIED), 100, None, ["registered"]),
    (Candidate("d", "shadow", {"passed": True, "max_abs_diff": 2e-5}), 100, None, ["certified"]),
    (Candidate("d", "shadow", {"passed": False, "max_abs_diff": 0.0}), 100, None, ["certified"]),
    (Candidate("d", "shadow", {}), 100, None, ["certified"]),
    (Candidate("d", "shadow", CERTIFIED), 99, None, ["shadow_volume"]),
    (Candidate("d", "shadow", CERTIFIED), 100, _paired(0.88, 0.9), ["auc_vs_champion"]),
])
def test_each_gate_refuses_on_its_own(candidate: Candidate | None, shadow: int, paired: Paired | None,
                                      expected: list[str]) -> None:
    assert failed(evaluate(candidate, "d", POLICY, shadow_scores=shadow, paired=paired)) == expected


def test_no_champion_or_no_mature_labels_leave_the_auc_gate_open() -> None:
    candidate = Candidate("d", "shadow", CERTIFIED)
    assert evaluate(candidate, "d", POLICY, shadow_scores=100)["auc_vs_champion"] == {
        "passed": True, "detail": "no current champion"}
    gate = evaluate(candidate, "d", POLICY, shadow_scores=100, paired=_paired(None, None))["auc_vs_champion"]
    assert gate["passed"] and gate["detail"] == "no mature labelled applications scored by both"


def test_the_tolerance_is_inclusive() -> None:
    policy = PromotionPolicy(min_shadow=100, auc_tolerance=0.25, certification_tolerance=1e-5)
    gate = evaluate(Candidate("d", "shadow", CERTIFIED), "d", policy, shadow_scores=100,
                    paired=_paired(0.5, 0.75))["auc_vs_champion"]  # exactly representable: delta is -0.25
    assert gate["passed"] and gate["delta"] == -0.25
