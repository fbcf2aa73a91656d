"""`arbiter shadow`, `arbiter promote`, `arbiter rollback`: the admin API's command-line counterparts.

Adapters only: each command calls the same governance service as its admin route."""

from __future__ import annotations

import click

from arbiter.cli.platform import cli_actor, platform_for_command
from models.detectors import DETECTORS


@click.command("shadow")
@click.argument("model_id")
@click.option("--stop", is_flag=True, help="stop shadowing instead of starting")
def shadow(model_id: str, stop: bool) -> None:
    """Start (or --stop) running MODEL_ID as a challenger in shadow mode."""
    from arbiter.governance.shadowing import change_shadow

    with platform_for_command() as platform:
        model = change_shadow(platform, model_id, not stop, actor=cli_actor(platform, "strategist", "governance"))
    click.echo(f"{model_id} is now {model.status}")


@click.command("promote")
@click.argument("model_id")
@click.option("--reason", required=True, help="why (kept in the audit trail)")
@click.option("--force", is_flag=True, help="override failed gates (recorded as forced)")
def promote(model_id: str, reason: str, force: bool) -> None:
    """Make MODEL_ID the champion of its detector, behind the promotion gates (with four eyes: ask
    for it; `arbiter promotions approve ID` by someone else promotes)."""
    from arbiter.governance.promotion import promote as run_promotion

    with platform_for_command() as platform:
        actor = cli_actor(platform, *(("operator",) if force else ("strategist", "operator")))
        result = run_promotion(platform, model_id, reason=reason, force=force, actor=actor)
    failed = [f"{name} ({g['detail']})" for name, g in result.gates.items() if not g["passed"]]
    if result.pending:
        click.echo(f"promotion request {result.record['id']} is pending: the gates pass; it takes effect when "
                   f"another principal approves it (arbiter promotions approve {result.record['id']})")
        _print_gates(result.gates)
        return
    if not result.accepted:
        raise click.ClickException(f"promotion refused (recorded): failed gates: {', '.join(failed)}; "
                                   "--force with a reason overrides")
    note = f" (forced past: {', '.join(name for name, g in result.gates.items() if not g['passed'])})" \
        if failed else ""
    click.echo(f"{model_id} is now the champion of {result.record['detector']}{note}")
    _print_gates(result.gates)


def _print_gates(gates: dict[str, dict[str, object]]) -> None:
    for name, gate in gates.items():
        click.echo(f"  {'pass' if gate['passed'] else 'FAIL'}  {name:<16} {gate['detail']}")


@click.command("rollback")
@click.option("--detector", required=True, type=click.Choice(sorted(DETECTORS)))
@click.option("--reason", required=True)
def rollback(detector: str, reason: str) -> None:
    """Return DETECTOR to the champion it had before the current one."""
    from arbiter.governance.promotion import rollback as run_rollback

    with platform_for_command() as platform:
        result = run_rollback(platform, detector, reason=reason, actor=cli_actor(platform, "strategist", "operator"))
    if not result.accepted:
        raise click.ClickException(f"no earlier champion of {detector} to return to (the attempt is recorded)")
    click.echo(f"{detector} rolled back to {result.record['model_id']} (from {result.record['previous_model_id']})")
