"""The strategists' views, as SQL files named `<view>.sql`. A few macros (GREATEST, SECONDS_BETWEEN,
DAY_OF, MATURE_BEFORE) are written per dialect so one text serves Postgres and SQLite."""

from __future__ import annotations

from pathlib import Path

_DIR = Path(__file__).parent
DIALECT = {
    "postgresql": {"greatest": "GREATEST", "seconds_between": "EXTRACT(EPOCH FROM ({later} - {earlier}))",
                   "day_of": "CAST(({0} AT TIME ZONE 'UTC') AS DATE)",
                   "mature_before": "(now() - make_interval(secs => {0} * 86400.0))"},
    "sqlite": {"greatest": "MAX", "seconds_between": "((julianday({later}) - julianday({earlier})) * 86400.0)",
               "day_of": "date({0})",
               "mature_before": "datetime('now', '-' || CAST({0} * 86400 AS INTEGER) || ' seconds')"},
}


def view_sql(name: str, dialect: str) -> str:
    """`CREATE VIEW name AS ...` for `dialect`."""
    words = DIALECT[dialect]
    text = (_DIR / f"{name}.sql").read_text().replace("GREATEST(", words["greatest"] + "(")
    for macro in ("SECONDS_BETWEEN", "DAY_OF", "MATURE_BEFORE"):
        while f"{macro}(" in text:
            start = text.index(f"{macro}(")
            inside, end = _balanced(text, start + len(macro))
            text = text[:start] + _expand(words[macro.lower()], inside) + text[end:]
    return f"CREATE VIEW {name} AS\n{text}"


def _expand(template: str, inside: str) -> str:
    if "{later}" in template:
        later, earlier = (part.strip() for part in inside.split(","))
        return template.format(later=later, earlier=earlier)
    return template.format(inside)


def _balanced(text: str, open_at: int) -> tuple[str, int]:
    """The text inside the parentheses opening at `open_at`, and the index just past their close."""
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_at + 1:i], i + 1
    raise ValueError(f"unbalanced parentheses in a view at {open_at}")
