"""The promotion gates, as pure functions over numbers the services gather.

Gates for promoting model M on detector D:
- registered: M exists, belongs to D, is not already the champion;
- certified: M passed certification within the configured tolerance;
- shadow_volume: M has scored at least `min_shadow` applications in shadow mode beside the
  champion (paired: what the comparison is made of);
- auc_vs_champion: on the mature labelled applications both M (shadow) and the champion scored
  (the paired comparison the `champion_challenger_comparison` view shows), M's ROC-AUC is not
  below the champion's by more than `auc_tolerance`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Gates = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class PromotionPolicy:
    """The thresholds (from the settings: ARBITER_PROMOTION_MIN_SHADOW, ..._AUC_TOLERANCE,
    ARBITER_CERTIFICATION_TOLERANCE)."""

    min_shadow: int
    auc_tolerance: float
    certification_tolerance: float


@dataclass(frozen=True)
class Candidate:
    """What the gates need to know of the model asked for."""

    detector: str
    status: str
    certification: dict[str, Any]


@dataclass(frozen=True)
class Paired:
    """The challenger against the champion on the same applications (mature labelled ones for the AUCs)."""

    paired: int
    agreement_rate: float | None
    labelled: int
    challenger_auc: float | None
    champion_auc: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"paired": self.paired, "agreement_rate": self.agreement_rate, "labelled": self.labelled,
                "challenger_auc": self.challenger_auc, "champion_auc": self.champion_auc}


NOTHING_PAIRED = Paired(0, None, 0, None, None)


def registered_gate(candidate: Candidate | None, detector: str) -> dict[str, Any]:
    ok = candidate is not None and candidate.detector == detector and candidate.status != "champion"
    detail = ("not found" if candidate is None else f"belongs to {candidate.detector}"
              if candidate.detector != detector else "already the champion" if candidate.status == "champion"
              else f"status {candidate.status}")
    return {"passed": ok, "detail": detail}


def certified_gate(certification: dict[str, Any], tolerance: float) -> dict[str, Any]:
    diff = certification.get("max_abs_diff")
    return {"passed": bool(certification.get("passed")) and diff is not None and diff <= tolerance,
            "max_abs_diff": diff, "tolerance": tolerance}


def shadow_volume_gate(shadow_scores: int, required: int) -> dict[str, Any]:
    return {"passed": shadow_scores >= required, "shadow_scores": shadow_scores, "required": required}


def auc_gate(paired: Paired | None, tolerance: float) -> dict[str, Any]:
    """`paired` is None when there is no champion to compare with."""
    if paired is None:
        return {"passed": True, "detail": "no current champion"}
    if paired.challenger_auc is None or paired.champion_auc is None:
        return {"passed": True, "detail": "no mature labelled applications scored by both", **paired.as_dict()}
    delta = paired.challenger_auc - paired.champion_auc
    return {"passed": delta >= -tolerance, "delta": delta, "tolerance": tolerance, **paired.as_dict()}


def evaluate(candidate: Candidate | None, detector: str, policy: PromotionPolicy, *, shadow_scores: int = 0,
             paired: Paired | None = None) -> Gates:
    """Every gate's verdict and figures; with no candidate, only `registered` (failed)."""
    gates = {"registered": registered_gate(candidate, detector)}
    if candidate is None:
        return gates
    gates["certified"] = certified_gate(candidate.certification, policy.certification_tolerance)
    gates["shadow_volume"] = shadow_volume_gate(shadow_scores, policy.min_shadow)
    gates["auc_vs_champion"] = auc_gate(paired, policy.auc_tolerance)
    return gates


def passed(gates: Gates) -> bool:
    return all(g["passed"] for g in gates.values())


def failed(gates: Gates) -> list[str]:
    return [name for name, gate in gates.items() if not gate["passed"]]
