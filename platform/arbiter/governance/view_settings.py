"""The settings the evidence is read with (`view_settings`: label maturity, the costs of a missed
fraud and of a false decline). An operator's change takes effect at once and is on record."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from arbiter.bootstrap import Platform
from arbiter.store import audit_repo, config_repo, tables

FIELDS = tuple(config_repo.VIEW_DEFAULTS)


class SettingsChange(BaseModel):
    """The body of `PUT /admin/v1/settings`: the fields to change."""

    label_maturity_days: float | None = Field(None, ge=0, le=3650, allow_inf_nan=False)
    missed_fraud_cost: float | None = Field(None, ge=0, allow_inf_nan=False)
    false_decline_cost: float | None = Field(None, ge=0, allow_inf_nan=False)


def current_settings(platform: Platform) -> dict[str, float]:
    with platform.sessions() as session:
        row = session.get(tables.ViewSettings, 1)
        return {f: getattr(row, f) for f in FIELDS} if row else {}


def change_settings(platform: Platform, change: SettingsChange, *, actor: str) -> dict[str, Any]:
    """Apply the fields `change` sets; the settings after it."""
    wanted = change.model_dump(exclude_none=True)
    with platform.sessions() as session, session.begin():
        row = session.get(tables.ViewSettings, 1)
        if row is None:
            row = tables.ViewSettings(id=1, **config_repo.VIEW_DEFAULTS)
            session.add(row)
        before = {f: getattr(row, f) for f in FIELDS}
        for name, value in wanted.items():
            setattr(row, name, value)
        session.flush()
        after = {f: getattr(row, f) for f in FIELDS}
        if after != before:
            audit_repo.append(session, actor, "settings.changed", "view_settings", {"before": before, "after": after})
        return after
