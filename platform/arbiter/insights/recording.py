"""How far the shadow path has got."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text

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
