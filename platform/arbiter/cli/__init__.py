"""The `arbiter` command line. Every command: --help, exit 0 on success, one clear line on error."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from arbiter import plugins
from arbiter.cli.approvals import promotions, proposals
from arbiter.cli.audit import audit
from arbiter.cli.backtest import backtest
from arbiter.cli.data import data
from arbiter.cli.db import db
from arbiter.cli.demo import demo
from arbiter.cli.evidence import evidence
from arbiter.cli.governance import promote, rollback, shadow
from arbiter.cli.outcomes import outcomes
from arbiter.cli.principals import principals
from arbiter.cli.registry import models_group, register
from arbiter.cli.replay import replay
from arbiter.cli.report import report
from arbiter.cli.retention import retention
from arbiter.cli.serve import serve
from arbiter.cli.simulate import simulate
from arbiter.cli.training import train
from arbiter.domain.errors import ArbiterError
from models.detectors import UnknownDetectorError
from models.errors import ModelsError, first_line

USER_ERRORS = (ArbiterError, ModelsError, UnknownDetectorError, ValueError, OSError)


class ArbiterGroup(click.Group):
    """Turns the errors a user can cause into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except OperationalError as exc:
            raise click.ClickException(f"database unreachable: {first_line(exc)}") from None
        except USER_ERRORS as exc:
            raise click.ClickException(first_line(exc, 2000)) from None
        except SQLAlchemyError as exc:
            raise click.ClickException(f"database error: {first_line(exc)}") from None
        except Exception as exc:
            if os.environ.get("ARBITER_DEBUG"):
                raise
            raise click.ClickException(
                f"internal error: {type(exc).__name__}: {exc} (set ARBITER_DEBUG=1 for a traceback)") from None


@click.group(cls=ArbiterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="arbiter")
def cli() -> None:
    """Arbiter: champion/challenger model serving for fraud detection."""


for command in (db, data, train, register, models_group, serve, shadow, promote, rollback, promotions, proposals,
                outcomes, replay, report, evidence, retention, audit, principals, demo, simulate, backtest):
    cli.add_command(command)
for name, command in plugins.all_of("arbiter.commands").items():  # `arbiter worker` (shadow_workers)
    cli.add_command(command, name)


def main() -> None:
    """Console-script entrypoint: every error, usage errors included, is one line on stderr."""
    try:
        code = cli.main(prog_name="arbiter", standalone_mode=False)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "arbiter"
        click.echo(f"Error: {exc.format_message()} (see '{command} --help')", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
