"""The strategists' views, as SQL files named `<view>.sql`. A few macros (GREATEST, SECONDS_BETWEEN,
DAY_OF, MATURE_BEFORE, JSON_NUMBER) are written per dialect so one text serves Postgres and SQLite."""

from __future__ import annotations

from pathlib import Path

_DIR = Path(__file__).parent
DIALECT = {
    "postgresql": {"greatest": "GREATEST", "seconds_between": "EXTRACT(EPOCH FROM ({0} - {1}))",
                   "day_of": "CAST(({0} AT TIME ZONE 'UTC') AS DATE)",
                   "mature_before": "(now() - make_interval(secs => {0} * 86400.0))",
                   "json_number": "CAST(({0} ->> {1}) AS DOUBLE PRECISION)"},
    "sqlite": {"greatest": "MAX", "seconds_between": "((julianday({0}) - julianday({1})) * 86400.0)",
               "day_of": "date({0})",
               "mature_before": "datetime('now', '-' || CAST({0} * 86400 AS INTEGER) || ' seconds')",
               "json_number": "CAST(json_extract({0}, '$.' || {1}) AS REAL)"},
}
MACROS = ("SECONDS_BETWEEN", "DAY_OF", "MATURE_BEFORE", "JSON_NUMBER")


def view_sql(name: str, dialect: str) -> str:
    """`CREATE VIEW name AS ...` for `dialect`."""
    return f"CREATE VIEW {name} AS\n{select_sql(name, dialect)}"


def select_sql(name: str, dialect: str, *, since: bool = False) -> str:
    """The view's query for `dialect`. A view counts everything; with `since`, the query takes a
    `:since` parameter and counts only applications received from then on (its SINCE(column)
    conditions), so a report over a period runs the very same SQL as the view."""
    words = {**DIALECT[dialect], "since": "{0} >= :since" if since else "1 = 1"}
    text = (_DIR / f"{name}.sql").read_text().replace("GREATEST(", words["greatest"] + "(")
    for macro in (*MACROS, "SINCE"):
        while f"{macro}(" in text:
            start = text.index(f"{macro}(")
            inside, end = _balanced(text, start + len(macro))
            text = text[:start] + _expand(words[macro.lower()], inside) + text[end:]
    return text


def _expand(template: str, inside: str) -> str:
    return template.format(*_arguments(inside))


def _arguments(inside: str) -> list[str]:
    """`inside` split at its top-level commas (a comma inside parentheses belongs to its argument)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(inside):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(inside[start:i].strip())
            start = i + 1
    return [*parts, inside[start:].strip()]


def _balanced(text: str, open_at: int) -> tuple[str, int]:
    """The text inside the parentheses opening at `open_at`, and the index just past their close."""
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_at + 1:i], i + 1
    raise ValueError(f"unbalanced parentheses in a view at {open_at}")
