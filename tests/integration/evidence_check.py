"""Comparing the evidence aggregates kept as data arrived with a recount from the raw tables."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from arbiter.bootstrap import Platform
from arbiter.insights.evidence import rebuild
from arbiter.store import tables
from arbiter.store.evidence_repo import AGGREGATES, MAXIMA, VALUES

COUNTS = {"applications", "without_amount", "scored", "first"}


def snapshot(platform: Platform) -> dict[str, dict[tuple, dict[str, Any]]]:
    """Every aggregate row that counts something, by table and primary key."""
    found: dict[str, dict[tuple, dict[str, Any]]] = {}
    with platform.sessions() as session:
        for model in AGGREGATES:
            table = model.__table__
            keys = [c.name for c in table.primary_key.columns]
            rows = session.execute(select(table)).mappings().all()
            count = VALUES[table.name][0]
            found[table.name] = {tuple(str(r[k]) for k in keys): {
                v: r[v] for v in (*VALUES[table.name], *MAXIMA.get(table.name, ()))} for r in rows if r[count] != 0}
    return found


def assert_matches_a_recount(platform: Platform) -> dict[str, int]:
    """The live aggregates equal `arbiter evidence rebuild`'s: counts exactly, sums to float rounding.
    Returns how many rows each table holds (so a test can see it compared something)."""
    live = snapshot(platform)
    rebuild(platform)
    recounted = snapshot(platform)
    for table, rows in recounted.items():
        assert set(live[table]) == set(rows), (table, set(live[table]) ^ set(rows))
        for key, values in rows.items():
            for name, value in values.items():
                if name in COUNTS or name in MAXIMA.get(table, ()):
                    assert live[table][key][name] == value, (table, key, name)
                else:
                    assert live[table][key][name] == pytest.approx(value, rel=1e-9, abs=1e-9), (table, key, name)
    return {table: len(rows) for table, rows in recounted.items()}


def stored_scores(platform: Platform) -> int:
    with platform.sessions() as session:
        return len(session.execute(select(tables.ShadowScore.application_id)).all())
