"""End-to-end fixtures reuse the integration ones (real Postgres)."""

from tests.integration.conftest import cli_env, four_eyes, migrated, pg_url, platform  # noqa: F401
