"""`arbiter simulate`: the workbench's threshold simulation on the command line (the same service as
`POST /admin/v1/detectors/{d}/simulate`)."""

from __future__ import annotations

import json
from typing import Any

import click
from pydantic import ValidationError

from arbiter.cli.platform import cli_actor, platform_for_command
from models.detectors import DETECTORS


@click.command("simulate")
@click.option("--detector", required=True, type=click.Choice(sorted(DETECTORS)))
@click.option("--model", "model_id", help="a registered model of the detector (default: its champion)")
@click.option("--review", type=float, help="review threshold")
@click.option("--decline", type=float, help="decline threshold")
@click.option("--decline-rate", type=float, help="target share declined, instead of --decline")
@click.option("--since", default="30d", show_default=True, help="ISO date or a span back from now (30d, 12h)")
@click.option("--capacity", "review_capacity", type=float, help="reviews a day the team can take")
@click.option("--review-cost", type=float, default=0.0, show_default=True, help="cost of one review")
@click.option("--save", is_flag=True, help="save the simulated thresholds as a strategy proposal")
@click.option("--note", default="", help="the proposal's note (with --save)")
@click.option("--json", "as_json", is_flag=True, help="print the whole result as JSON")
def simulate(detector: str, model_id: str | None, review: float | None, decline: float | None,
             decline_rate: float | None, since: str, review_capacity: float | None, review_cost: float, save: bool,
             note: str, as_json: bool) -> None:
    """What a strategy would have done on a model's stored evidence, and the cheapest thresholds."""
    from arbiter.governance.workbench import SimulationRequest, simulate_strategy

    try:
        request = SimulationRequest(model_id=model_id, review=review, decline=decline, decline_rate=decline_rate,
                                    since=since, review_capacity=review_capacity, review_cost=review_cost, save=save,
                                    note=note)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "options"
        raise click.ClickException(f"{where}: {first['msg']}") from None
    with platform_for_command() as platform:
        actor = cli_actor(platform, "strategist")
        result = simulate_strategy(platform, detector, request, actor=actor)
    if as_json:
        click.echo(json.dumps(result, default=str))
        return
    click.echo(f"{detector}: {result['model_id']} over {result['days']} day(s) since {result['since'][:10]} "
               f"({result['simulated']['applications']:,} applications, {result['simulated']['labelled']:,} "
               f"labelled on mature days)")
    _table([("current", result["current"]), ("simulated", result["simulated"]),
            *([("best", result["best"])] if result["best"] else [])])
    if result["best"] is None and review_capacity is not None:
        click.echo(f"no pair of thresholds keeps reviews under {review_capacity:g} a day")
    if "proposal" in result:
        p = result["proposal"]
        click.echo(f"saved as proposal {p['id']} ({'pending approval' if p['pending'] else 'applied'})"
                   if p.get("id") else "saved")


def _table(rows: list[tuple[str, dict[str, Any]]]) -> None:
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.2f}%"

    click.echo(f"{'':10} {'review':>7} {'decline':>7} {'approve':>8} {'review':>8} {'decline':>8} "
               f"{'caught':>7} {'false decl.':>11} {'reviews/day':>11} {'cost':>12}")
    for name, r in rows:
        cost = "-" if r["expected_cost"] is None else f"{r['expected_cost']:,.0f}"
        click.echo(f"{name:10} {r['review_threshold']:>7.3f} {r['decline_threshold']:>7.3f} "
                   f"{pct(r['approve_rate']):>8} {pct(r['review_rate']):>8} {pct(r['decline_rate']):>8} "
                   f"{pct(r['fraud_caught_rate']):>7} {r['false_declines']:>11,} {r['reviews_per_day']:>11.1f} "
                   f"{cost:>12}")
