"""Views as each migration wrote them: `frozen/<revision>/<view>.sql`, never edited afterwards.

A migration creates the text it was written with, so upgrading from scratch builds every old
revision exactly as it was; only a new migration (with a new frozen copy) changes a view. The
live files in `arbiter/insights/views/` are where the next change is written first.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

from arbiter.store.dialect_sql import expand

FROZEN = Path(__file__).parent / "frozen"


def frozen_text(revision: str, name: str) -> str:
    """The SQL of view `name` as revision `revision` wrote it, macros unexpanded."""
    return (FROZEN / revision / f"{name}.sql").read_text()


def create_view(revision: str, name: str) -> None:
    """`CREATE VIEW name` from revision's frozen copy, for the dialect being migrated."""
    op.execute(f"CREATE VIEW {name} AS\n{expand(frozen_text(revision, name), op.get_bind().dialect.name)}")
