"""The promotion gates, as pure functions over numbers the services gather.

Gates for promoting model M on detector D (each verdict carries its figures and a one-line `detail`):
- registered: M exists, belongs to D, is not already the champion;
- certified: M passed certification within the configured tolerance;
- shadow_volume: M has scored at least `min_shadow` applications in shadow mode beside the champion;
- shadow_coverage: over M's shadow window, at least `min_coverage` of the applications published
  to it were scored, and none was dead-lettered;
- evidence: at least `min_labelled` applications with a mature label, `min_frauds` of them frauds,
  scored by both M and the champion; fewer refuse as "insufficient evidence", with the counts;
- auc_vs_champion: on those applications, the 95% DeLong interval of M's ROC-AUC minus the
  champion's has its lower bound at or above `-auc_tolerance`;
- decision_rates: on the applications both scored, M's would-be decline and review rates are each
  within `rate_tolerance` (relative, at least `RATE_FLOOR` absolute) of the champion's;
- fairness: for detectors whose applications carry age bands and regions, M's disparity ratio
  (lowest approval rate over highest among the groups, `model_fairness`) is at least
  `min_disparity` in each (0 turns the gate off).
With no champion to compare with, evidence, auc_vs_champion and decision_rates pass ("no current champion").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arbiter.domain.delong import PairedAuc

Gates = dict[str, dict[str, Any]]
RATE_FLOOR = 0.005  # a decision rate may always move half a point: a 0.1% decline rate doubling is noise


@dataclass(frozen=True)
class PromotionPolicy:
    """The thresholds (from the settings: ARBITER_PROMOTION_MIN_SHADOW, ..._AUC_TOLERANCE,
    ..._MIN_LABELLED, ..._MIN_FRAUDS, ..._RATE_TOLERANCE, ..._MIN_COVERAGE, ARBITER_CERTIFICATION_TOLERANCE)."""

    min_shadow: int
    auc_tolerance: float
    certification_tolerance: float
    min_labelled: int = 10_000
    min_frauds: int = 100
    rate_tolerance: float = 0.25
    min_coverage: float = 0.999
    min_disparity: float = 0.8


@dataclass(frozen=True)
class Candidate:
    """What the gates need to know of the model asked for."""

    detector: str
    status: str
    certification: dict[str, Any]


@dataclass(frozen=True)
class Paired:
    """The challenger against the champion on the same applications (mature labelled ones for the AUCs),
    as the `champion_challenger_comparison` view shows it."""

    paired: int
    agreement_rate: float | None
    labelled: int
    challenger_auc: float | None
    champion_auc: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"paired": self.paired, "agreement_rate": self.agreement_rate, "labelled": self.labelled,
                "challenger_auc": self.challenger_auc, "champion_auc": self.champion_auc}


NOTHING_PAIRED = Paired(0, None, 0, None, None)


@dataclass(frozen=True)
class DecisionRates:
    """Decline and review rates of both models on the applications both scored (the challenger's
    under the strategy its would-be decisions were made with)."""

    paired: int
    challenger_decline: float
    champion_decline: float
    challenger_review: float
    champion_review: float


@dataclass(frozen=True)
class Coverage:
    """The candidate's shadow window as `shadow_coverage` counts it."""

    published: int
    scored: int
    dead_lettered: int


@dataclass(frozen=True)
class Evidence:
    """The challenger against the champion: the comparison view's row, the mature labelled
    applications both scored (`frauds` of them frauds), DeLong on them (None below two of each
    class), whether the joint counts cover every one of them, and the decision rates."""

    paired: Paired
    labelled: int
    frauds: int
    auc: PairedAuc | None
    complete: bool
    rates: DecisionRates


def registered_gate(candidate: Candidate | None, detector: str) -> dict[str, Any]:
    ok = candidate is not None and candidate.detector == detector and candidate.status != "champion"
    detail = ("not found" if candidate is None else f"belongs to {candidate.detector}"
              if candidate.detector != detector else "already the champion" if candidate.status == "champion"
              else f"status {candidate.status}")
    return {"passed": ok, "detail": detail}


def certified_gate(certification: dict[str, Any], tolerance: float) -> dict[str, Any]:
    diff = certification.get("max_abs_diff")
    ok = bool(certification.get("passed")) and diff is not None and diff <= tolerance
    return {"passed": ok, "max_abs_diff": diff, "tolerance": tolerance,
            "detail": f"served scores within {diff} of the training tool's (at most {tolerance})"
            if diff is not None else "never certified"}


def shadow_volume_gate(shadow_scores: int, required: int) -> dict[str, Any]:
    return {"passed": shadow_scores >= required, "shadow_scores": shadow_scores, "required": required,
            "detail": f"{shadow_scores:,} shadow scores paired with the champion's (at least {required:,})"}


def coverage_gate(coverage: Coverage | None, minimum: float) -> dict[str, Any]:
    """Every application published to the candidate scored (`minimum` of them), none dead-lettered."""
    if coverage is None:
        return {"passed": False, "detail": "never in shadow mode"}
    rate = coverage.scored / coverage.published if coverage.published else None
    ok = rate is not None and rate >= minimum and coverage.dead_lettered == 0
    shown = "no application published" if rate is None else f"{coverage.scored:,} of {coverage.published:,} " \
                                                             f"published scored ({rate:.4%}, at least {minimum:.2%})"
    return {"passed": ok, "published": coverage.published, "scored": coverage.scored, "coverage": rate,
            "minimum": minimum, "dead_lettered": coverage.dead_lettered,
            "detail": shown + (f", {coverage.dead_lettered:,} dead-lettered" if coverage.dead_lettered else "")}


def evidence_gate(evidence: Evidence | None, policy: PromotionPolicy) -> dict[str, Any]:
    """Enough mature labels, and enough frauds among them, on the applications both models scored."""
    if evidence is None:
        return {"passed": True, "detail": "no current champion"}
    ok = evidence.labelled >= policy.min_labelled and evidence.frauds >= policy.min_frauds
    detail = (f"{evidence.labelled:,} mature labelled applications scored by both (at least "
              f"{policy.min_labelled:,}), {evidence.frauds:,} of them frauds (at least {policy.min_frauds:,})")
    return {"passed": ok, "labelled": evidence.labelled, "frauds": evidence.frauds,
            "min_labelled": policy.min_labelled, "min_frauds": policy.min_frauds,
            "detail": detail if ok else f"insufficient evidence: {detail}"}


def auc_gate(evidence: Evidence | None, policy: PromotionPolicy) -> dict[str, Any]:
    """The lower bound of the 95% interval of (challenger - champion) AUC is at least -tolerance."""
    if evidence is None:
        return {"passed": True, "detail": "no current champion"}
    figures = {"tolerance": policy.auc_tolerance, **evidence.paired.as_dict()}
    if not evidence.complete:
        return {"passed": False, **figures, "detail": "evidence incomplete: the paired scores of some labelled "
                                                      "applications are not on the joint grid; run "
                                                      "`arbiter evidence rebuild`"}
    if evidence.auc is None or evidence.labelled < policy.min_labelled or evidence.frauds < policy.min_frauds:
        return {"passed": False, **figures, "detail": "insufficient evidence (see the evidence gate)"}
    a = evidence.auc
    ok = a.ci_low >= -policy.auc_tolerance
    return {"passed": ok, **figures, **a.as_dict(),
            "detail": f"AUC {a.challenger_auc:.4f} vs {a.champion_auc:.4f}: difference {a.delta:+.4f}, 95% interval "
                      f"[{a.ci_low:+.4f}, {a.ci_high:+.4f}] (lower bound at least {-policy.auc_tolerance:+.4f})"}


def rates_gate(evidence: Evidence | None, policy: PromotionPolicy) -> dict[str, Any]:
    """The candidate's would-be decline and review rates stay near the champion's."""
    if evidence is None:
        return {"passed": True, "detail": "no current champion"}
    r = evidence.rates
    if r.paired == 0:
        return {"passed": False, "paired": 0, "detail": "no application scored by both"}
    moved = []
    for name, mine, theirs in (("decline", r.challenger_decline, r.champion_decline),
                               ("review", r.challenger_review, r.champion_review)):
        if abs(mine - theirs) > max(policy.rate_tolerance * theirs, RATE_FLOOR):
            moved.append(f"{name} {mine:.2%} vs {theirs:.2%}")
    detail = (f"decline {r.challenger_decline:.2%} vs {r.champion_decline:.2%}, review {r.challenger_review:.2%} "
              f"vs {r.champion_review:.2%} on {r.paired:,} applications (within {policy.rate_tolerance:.0%})")
    return {"passed": not moved, "paired": r.paired, "challenger_decline_rate": r.challenger_decline,
            "champion_decline_rate": r.champion_decline, "challenger_review_rate": r.challenger_review,
            "champion_review_rate": r.champion_review, "rate_tolerance": policy.rate_tolerance,
            "detail": detail if not moved else f"rates moved too far: {', '.join(moved)}; {detail}"}


def fairness_gate(disparity: dict[str, float | None] | None, minimum: float) -> dict[str, Any]:
    """`disparity`: dimension -> the candidate's disparity ratio (None: too few applications per
    group to tell); None when the detector records no protected groups."""
    if minimum <= 0:
        return {"passed": True, "detail": "off (ARBITER_PROMOTION_MIN_DISPARITY=0)"}
    if disparity is None:
        return {"passed": True, "detail": "no age bands or regions recorded for this detector"}
    if not disparity:
        return {"passed": False, "minimum": minimum, "detail": "no application with an age band or region scored"}
    low = {d: r for d, r in disparity.items() if r is None or r < minimum}
    shown = ", ".join(f"{d} {'-' if r is None else f'{r:.3f}'}" for d, r in sorted(disparity.items()))
    return {"passed": not low, "disparity": disparity, "minimum": minimum,
            "detail": f"disparity ratio (lowest approval rate over highest) {shown} (at least {minimum:g})"
            + ("" if not low else "; too low or too few applications per group: " + ", ".join(sorted(low)))}


def evaluate(candidate: Candidate | None, detector: str, policy: PromotionPolicy, *, shadow_scores: int = 0,
             coverage: Coverage | None = None, evidence: Evidence | None = None,
             disparity: dict[str, float | None] | None = None) -> Gates:
    """Every gate's verdict and figures; with no candidate, only `registered` (failed). `evidence`
    None: there is no champion to compare with."""
    gates = {"registered": registered_gate(candidate, detector)}
    if candidate is None:
        return gates
    gates["certified"] = certified_gate(candidate.certification, policy.certification_tolerance)
    gates["shadow_volume"] = shadow_volume_gate(shadow_scores, policy.min_shadow)
    gates["shadow_coverage"] = coverage_gate(coverage, policy.min_coverage)
    gates["evidence"] = evidence_gate(evidence, policy)
    gates["auc_vs_champion"] = auc_gate(evidence, policy)
    gates["decision_rates"] = rates_gate(evidence, policy)
    gates["fairness"] = fairness_gate(disparity, policy.min_disparity)
    return gates


def passed(gates: Gates) -> bool:
    return all(g["passed"] for g in gates.values())


def failed(gates: Gates) -> list[str]:
    return [name for name, gate in gates.items() if not gate["passed"]]
