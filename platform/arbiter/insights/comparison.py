"""The paired comparison of a challenger with a champion, as `champion_challenger_comparison` shows it,
and its shadow volume: the promotion gates' evidence, read from the evidence aggregates.

The promotion gate reads its evidence here, so the gate and the strategists' view and dashboard
agree on the same promotion: the same applications, the same label maturity, the same AUC.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from arbiter.domain.gates import NOTHING_PAIRED, Paired

_PAIR = text("""
    SELECT paired, agreement_rate, labelled, challenger_auc, champion_auc FROM champion_challenger_comparison
    WHERE challenger_id = :challenger AND champion_id = :champion""")


_VOLUME = text("SELECT SUM(applications) FROM evidence_pairs WHERE challenger_id = :challenger")


def shadow_volume(session: Session, challenger: str) -> int:
    """How many applications `challenger` has scored in shadow mode beside a champion's score (the
    evidence aggregates; a rule-decided application has no champion score to pair with)."""
    return int(session.execute(_VOLUME, {"challenger": challenger}).scalar() or 0)


def paired_comparison(session: Session, challenger: str, champion: str) -> Paired:
    """`challenger` against `champion` on the applications both scored; nothing paired yet is all zeros."""
    row = session.execute(_PAIR, {"challenger": challenger, "champion": champion}).first()
    if row is None:
        return NOTHING_PAIRED
    return Paired(int(row.paired), _float(row.agreement_rate), int(row.labelled), _float(row.challenger_auc),
                  _float(row.champion_auc))


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
