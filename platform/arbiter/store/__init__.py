"""Storage: tables, engine and sessions, migrations, repositories."""
