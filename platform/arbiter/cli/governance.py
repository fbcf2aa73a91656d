"""`arbiter shadow`, `arbiter promote`, `arbiter rollback`: the admin API's command-line counterparts."""

from __future__ import annotations

import getpass

import click

from models.detectors import DETECTORS


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@click.command("shadow")
@click.argument("model_id")
@click.option("--stop", is_flag=True, help="stop shadowing instead of starting")
def shadow(model_id: str, stop: bool) -> None:
    """Start (or --stop) running MODEL_ID as a challenger in shadow mode."""
    from arbiter.bootstrap import bootstrap
    from arbiter.promotion import PromotionError
    from arbiter.shadowing import change_shadow

    platform = bootstrap()
    try:
        try:
            model = change_shadow(platform, model_id, not stop)
        except PromotionError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{model_id} is now {model.status}")
    finally:
        platform.close()


@click.command("promote")
@click.argument("model_id")
@click.option("--reason", required=True, help="why (kept in the audit trail)")
@click.option("--force", is_flag=True, help="override failed gates (recorded as forced)")
def promote(model_id: str, reason: str, force: bool) -> None:
    """Make MODEL_ID the champion of its detector, behind the promotion gates."""
    from arbiter.bootstrap import bootstrap
    from arbiter.promotion import PromotionPolicy
    from arbiter.promotion import promote as run_promotion
    from arbiter.store import tables

    platform = bootstrap()
    s = platform.settings
    try:
        with platform.sessions() as session, session.begin():
            model = session.get(tables.Model, model_id)
            if model is None:
                raise click.ClickException(f"unknown model {model_id!r}")
            detector = model.detector
            result = run_promotion(session, detector, model_id, reason=reason, actor=_actor(), force=force,
                                   policy=PromotionPolicy(s.promotion_min_shadow, s.promotion_auc_tolerance,
                                                          s.certification_tolerance))
            gates = result.record.gates
        if result.accepted:
            from arbiter.shadowing import release_queue
            release_queue(platform, model)  # a promoted challenger stops receiving shadow traffic
    finally:
        platform.close()
    failed = [f"{name} ({_gate_detail(g)})" for name, g in gates.items() if not g["passed"]]
    if not result.accepted:
        raise click.ClickException(f"promotion refused (recorded): failed gates: {', '.join(failed)}; "
                                   "--force with a reason overrides")
    note = f" (forced past: {', '.join(failed)})" if failed else ""
    click.echo(f"{model_id} is now the champion of {detector}{note}")


def _gate_detail(gate: dict) -> str:
    for key in ("detail", "shadow_scores", "delta", "max_abs_diff"):
        if key in gate:
            return f"{key} {gate[key]}" if key != "detail" else str(gate[key])
    return "failed"


@click.command("rollback")
@click.option("--detector", required=True, type=click.Choice(sorted(DETECTORS)))
@click.option("--reason", required=True)
def rollback(detector: str, reason: str) -> None:
    """Return DETECTOR to the champion it had before the current one."""
    from arbiter.bootstrap import bootstrap
    from arbiter.promotion import rollback as run_rollback

    platform = bootstrap()
    try:
        with platform.sessions() as session, session.begin():
            result = run_rollback(session, detector, reason=reason, actor=_actor())
            to, since = result.record.model_id, result.record.previous_model_id
    finally:
        platform.close()
    if not result.accepted:
        raise click.ClickException(f"no earlier champion of {detector} to return to (the attempt is recorded)")
    click.echo(f"{detector} rolled back to {to} (from {since})")
