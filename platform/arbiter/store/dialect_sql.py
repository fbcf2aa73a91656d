"""One SQL text for Postgres and SQLite: a few macros written per dialect.

Macros: GREATEST, SECONDS_BETWEEN(a, b), DAY_OF(t), MATURE_BEFORE(days), JSON_NUMBER(doc, key),
HOUR_OF(t) (the start of t's UTC hour), NEXT_HOUR(t) (the start of the next one) and SINCE(column).
The migrations expand their frozen view copies with this, so a macro's expansion is history too:
never change one, add a new macro instead.
"""

from __future__ import annotations

DIALECT = {
    "postgresql": {"greatest": "GREATEST", "seconds_between": "EXTRACT(EPOCH FROM ({0} - {1}))",
                   "day_of": "CAST(({0} AT TIME ZONE 'UTC') AS DATE)",
                   "mature_before": "(now() - make_interval(secs => {0} * 86400.0))",
                   "json_number": "CAST(({0} ->> {1}) AS DOUBLE PRECISION)",
                   "hour_of": "(date_trunc('hour', ({0}) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')",
                   "next_hour": "((date_trunc('hour', ({0}) AT TIME ZONE 'UTC') + interval '1 hour')"
                                " AT TIME ZONE 'UTC')"},
    "sqlite": {"greatest": "MAX", "seconds_between": "((julianday({0}) - julianday({1})) * 86400.0)",
               "day_of": "date({0})",
               "mature_before": "datetime('now', '-' || CAST({0} * 86400 AS INTEGER) || ' seconds')",
               "json_number": "CAST(json_extract({0}, '$.' || {1}) AS REAL)",
               # the text SQLAlchemy stores a datetime as, so that it compares with stored hours
               "hour_of": "strftime('%Y-%m-%d %H:00:00.000000', {0})",
               "next_hour": "strftime('%Y-%m-%d %H:00:00.000000', {0}, '+1 hour')"},
}
MACROS = ("SECONDS_BETWEEN", "DAY_OF", "MATURE_BEFORE", "JSON_NUMBER", "NEXT_HOUR", "HOUR_OF")


def expand(text: str, dialect: str, *, since: bool = False) -> str:
    """`text` with its macros written for `dialect`. SINCE(column) is `column >= :since` with
    `since`, and always true without (a view counts everything)."""
    words = {**DIALECT[dialect], "since": "{0} >= :since" if since else "1 = 1"}
    text = text.replace("GREATEST(", words["greatest"] + "(")
    for macro in (*MACROS, "SINCE"):
        while f"{macro}(" in text:
            start = text.index(f"{macro}(")
            inside, end = _balanced(text, start + len(macro))
            text = text[:start] + words[macro.lower()].format(*_arguments(inside)) + text[end:]
    return text


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
    raise ValueError(f"unbalanced parentheses in SQL at {open_at}")
