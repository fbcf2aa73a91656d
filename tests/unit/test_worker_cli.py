"""`arbiter worker` is plugged into the CLI and refuses bad options in one line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from arbiter.cli import cli


def test_worker_is_a_command_of_arbiter() -> None:
    result = CliRunner().invoke(cli, ["worker", "--help"])
    assert result.exit_code == 0 and "--models" in result.output and "--batch-size" in result.output


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--detector", "nope"], {}, "unknown detector"),
    (["--models", ","], {}, "--models must be"),
    (["--batch-size", "0"], {}, "Invalid value for '--batch-size'"),
    ([], {"ARBITER_BROKER_URL": "kafka://somewhere"}, "ARBITER_BROKER_URL must start with"),
])
def test_bad_worker_options_get_one_clear_line(args: list[str], env: dict[str, str], message: str,
                                               monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from arbiter.config import get_settings
    monkeypatch.setenv("ARBITER_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["worker", *args])
    finally:
        get_settings.cache_clear()
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert "Traceback" not in result.output
