"""How far the shadow path has got, and the label-maturity setting the evidence reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text, update

from arbiter.bootstrap import Platform
from arbiter.store import tables


@dataclass(frozen=True)
class Recorded:
    """Decisions stored so far, and each open shadow window's `shadow_coverage` row."""

    decisions: int
    coverage: list[dict[str, Any]]

    @property
    def pending(self) -> int:
        return sum(int(row["pending"] or 0) for row in self.coverage)


def recorded(platform: Platform) -> Recorded:
    with platform.engine.connect() as conn:
        decisions = conn.scalar(select(func.count()).select_from(tables.Decision)) or 0
        rows = conn.execute(text("SELECT model_id, published, scored, dead_lettered, pending FROM shadow_coverage "
                                 "WHERE stopped_at IS NULL ORDER BY model_id")).mappings().all()
    return Recorded(int(decisions), [dict(r) for r in rows])


def set_label_maturity(platform: Platform, days: float) -> None:
    """How old an application must be before its label counts in the evidence (view_settings)."""
    with platform.sessions() as session, session.begin():
        session.execute(update(tables.ViewSettings).values(label_maturity_days=days))
