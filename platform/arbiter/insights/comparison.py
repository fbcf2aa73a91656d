"""The promotion gates' evidence, read from the evidence aggregates: the paired comparison of a
challenger with a champion as `champion_challenger_comparison` shows it, DeLong's interval of their
AUC difference on the same mature labelled applications, their decision rates, and the
challenger's shadow volume and coverage.

The gate reads the same aggregates, the same label maturity and the same fine bins as the view and
the dashboard, so both AUCs the gate judges are the ones strategists see.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from arbiter.domain.delong import paired_delong
from arbiter.domain.gates import NOTHING_PAIRED, Coverage, DecisionRates, Evidence, Paired
from arbiter.store.dialect_sql import expand
from models.detectors import get_detector
from models.segments import FAIRNESS, dimensions

_PAIR = text("""
    SELECT paired, agreement_rate, labelled, challenger_auc, champion_auc FROM champion_challenger_comparison
    WHERE challenger_id = :challenger AND champion_id = :champion""")

_VOLUME = text("SELECT SUM(applications) FROM evidence_pairs WHERE challenger_id = :challenger")

_MATURE = "day <= DAY_OF(MATURE_BEFORE((SELECT label_maturity_days FROM view_settings WHERE id = 1)))"

_BINS = f"""
    SELECT side, bin, label, SUM(applications) FROM evidence_pair_bins
    WHERE challenger_id = :challenger AND champion_id = :champion AND label <> 'none' AND {_MATURE}
    GROUP BY side, bin, label"""

_CELLS = f"""
    SELECT challenger_cell, champion_cell, label, SUM(applications) FROM evidence_pair_cells
    WHERE challenger_id = :challenger AND champion_id = :champion AND label <> 'none' AND {_MATURE}
    GROUP BY challenger_cell, champion_cell, label"""

_RATES = text("""
    SELECT challenger_decision, champion_decision, SUM(applications) FROM evidence_pairs
    WHERE challenger_id = :challenger AND champion_id = :champion
    GROUP BY challenger_decision, champion_decision""")

_COVERAGE = text("SELECT published, scored, dead_lettered FROM shadow_coverage WHERE model_id = :model")


_DISPARITY = text("SELECT dimension, MIN(disparity_ratio) FROM model_fairness WHERE model_id = :model "
                  "GROUP BY dimension")


def disparity(session: Session, model: str, detector: str) -> dict[str, float | None] | None:
    """`model`'s disparity ratio per protected dimension (`model_fairness`); None when `detector`'s
    applications carry no age band or region."""
    if not set(dimensions(get_detector(detector))) & set(FAIRNESS):
        return None
    return {d: _float(r) for d, r in session.execute(_DISPARITY, {"model": model})}


def shadow_volume(session: Session, challenger: str) -> int:
    """How many applications `challenger` has scored in shadow mode beside a champion's score (the
    evidence aggregates; a rule-decided application has no champion score to pair with)."""
    return int(session.execute(_VOLUME, {"challenger": challenger}).scalar() or 0)


def shadow_coverage(session: Session, model_id: str) -> Coverage | None:
    """`model_id`'s shadow window as `shadow_coverage` counts it (None: never in shadow mode)."""
    row = session.execute(_COVERAGE, {"model": model_id}).first()
    return None if row is None else Coverage(int(row.published), int(row.scored), int(row.dead_lettered))


def paired_comparison(session: Session, challenger: str, champion: str) -> Paired:
    """`challenger` against `champion` on the applications both scored; nothing paired yet is all zeros."""
    row = session.execute(_PAIR, {"challenger": challenger, "champion": champion}).first()
    if row is None:
        return NOTHING_PAIRED
    return Paired(int(row.paired), _float(row.agreement_rate), int(row.labelled), _float(row.challenger_auc),
                  _float(row.champion_auc))


def promotion_evidence(session: Session, challenger: str, champion: str) -> Evidence:
    """Everything the comparison gates judge `challenger` against `champion` on."""
    dialect = session.get_bind().dialect.name
    ids = {"challenger": challenger, "champion": champion}
    sides: dict[str, dict[int, tuple[int, int]]] = {"challenger": {}, "champion": {}}
    for side, b, label, n in session.execute(text(expand(_BINS, dialect)), ids):
        _count(sides[side], int(b), label, int(n))
    cells: dict[tuple[int, int], tuple[int, int]] = {}
    for x, y, label, n in session.execute(text(expand(_CELLS, dialect)), ids):
        _count(cells, (int(x), int(y)), label, int(n))
    frauds = sum(p for p, _ in sides["challenger"].values())
    labelled = frauds + sum(n for _, n in sides["challenger"].values())
    complete = sum(p + n for p, n in cells.values()) == labelled
    auc = paired_delong(sides["challenger"], sides["champion"], cells) if complete else None
    return Evidence(paired_comparison(session, challenger, champion), labelled, frauds, auc, complete,
                    decision_rates(session, challenger, champion))


def decision_rates(session: Session, challenger: str, champion: str) -> DecisionRates:
    """Both models' decline and review rates on the applications both scored."""
    counts = {(x, y): int(n) for x, y, n in session.execute(_RATES, {"challenger": challenger, "champion": champion})}
    paired = sum(counts.values())

    def rate(side: int, decision: str) -> float:
        return sum(n for key, n in counts.items() if key[side] == decision) / paired if paired else 0.0

    return DecisionRates(paired, rate(0, "decline"), rate(1, "decline"), rate(0, "review"), rate(1, "review"))


def _count(into: dict, key: object, label: str, n: int) -> None:
    p, q = into.get(key, (0, 0))
    into[key] = (p + n, q) if label == "fraud" else (p, q + n)


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
