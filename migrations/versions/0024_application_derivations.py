"""applications.derived: what a stored application keeps of its PII besides keyed hashes, recorded
when it is stored, so a backtest computes the same features serving did (models.features
`recorded_derivations`, arbiter.domain.derivations): the zip-to-IP distance, the age in whole years,
identity digests for reuse counts, and, as keyed hashes, the e-mail's domain and the IP's network.
NULL for detectors without PII and for applications stored before this revision.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    # nullable, no default: no table rewrite on Postgres, and the partitions inherit the column
    op.add_column("applications", sa.Column("derived", JSON_TYPE, nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+ too): a batch copy would break the views that read the table
    op.execute("ALTER TABLE applications DROP COLUMN derived")
