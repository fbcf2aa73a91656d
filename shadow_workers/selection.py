"""Which queues a worker consumes: the recorder and the challengers its options select."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from arbiter.store import tables


@dataclass(frozen=True)
class Selection:
    """`detector` None means every detector; `models` None means every challenger (`--models all`)."""

    detector: str | None = None
    models: frozenset[str] | None = None
    recorder: bool = True

    @classmethod
    def parse(cls, detector: str | None, models: str, recorder: bool = True) -> Selection:
        ids = None if models.strip().lower() == "all" else frozenset(m.strip() for m in models.split(",") if m.strip())
        if ids is not None and not ids:
            raise ValueError("--models must be 'all' or a comma-separated list of model ids")
        return cls(detector, ids, recorder)

    def _matches(self, model: tables.Model) -> bool:
        return (self.detector is None or model.detector == self.detector) and \
            (self.models is None or model.id in self.models)

    def challengers(self, session: Session) -> list[tables.Model]:
        """The selected models in shadow mode now."""
        rows = session.scalars(select(tables.Model).where(tables.Model.status == "shadow")).all()
        return [m for m in rows if self._matches(m)]

    def former_challengers(self, session: Session) -> list[tables.Model]:
        """Selected models that were challengers once and are not now: their queues may need draining."""
        rows = session.scalars(select(tables.Model).where(tables.Model.status != "shadow",
                                                          tables.Model.shadow_started_at.is_not(None))).all()
        return [m for m in rows if self._matches(m)]
