"""The strategists' views as they stand now, as SQL files named `<view>.sql` (dialect macros:
`arbiter.store.dialect_sql`).

These live files are what the reports run (a view's query over a period) and what the next
migration that changes a view copies into `migrations/frozen/<revision>/`; a migration creates
only its own frozen copy, so editing a file here changes no revision already written.
"""

from __future__ import annotations

from pathlib import Path

from arbiter.store.dialect_sql import expand

_DIR = Path(__file__).parent


def live_text(name: str) -> str:
    """The view's SQL as it stands in this folder, macros unexpanded."""
    return (_DIR / f"{name}.sql").read_text()


def select_sql(name: str, dialect: str, *, since: bool = False) -> str:
    """The view's query for `dialect`. With `since`, the query takes a `:since` parameter and
    counts only applications received from then on (its SINCE(column) conditions), so a report
    over a period runs the very same SQL as the view."""
    return expand(live_text(name), dialect, since=since)
