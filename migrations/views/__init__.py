"""The strategists' views, as SQL files named `<view>.sql`; `{greatest}`-style placeholders
are filled per dialect so one text serves Postgres and SQLite."""

from __future__ import annotations

from pathlib import Path

_DIR = Path(__file__).parent
DIALECT = {
    "postgresql": {"greatest": "GREATEST", "seconds_between": "EXTRACT(EPOCH FROM ({later} - {earlier}))"},
    "sqlite": {"greatest": "MAX", "seconds_between": "((julianday({later}) - julianday({earlier})) * 86400.0)"},
}


def view_sql(name: str, dialect: str) -> str:
    """`CREATE VIEW name AS ...` for `dialect`."""
    words = DIALECT[dialect]
    text = (_DIR / f"{name}.sql").read_text()

    def seconds(later: str, earlier: str) -> str:
        return words["seconds_between"].format(later=later, earlier=earlier)

    text = text.replace("GREATEST(", words["greatest"] + "(")
    while "SECONDS_BETWEEN(" in text:
        start = text.index("SECONDS_BETWEEN(")
        end = text.index(")", start)
        later, earlier = (p.strip() for p in text[start + len("SECONDS_BETWEEN("):end].split(","))
        text = text[:start] + seconds(later, earlier) + text[end + 1:]
    return f"CREATE VIEW {name} AS\n{text}"
