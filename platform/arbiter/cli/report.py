"""`arbiter report`: the champion of each detector against each challenger, in the terminal."""

from __future__ import annotations

import json
from typing import Any

import click

from arbiter.cli.platform import cli_actor, platform_for_command
from arbiter.domain.principals import ROLES
from models.detectors import DETECTORS


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, digits: int = 4, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _champion_line(entry: Any) -> str:
    c = entry.champion
    if c is None:
        return f"{entry.detector}: no champion now"
    return (f"{entry.detector}: champion {c['model_id']} ({c['recipe']}): {c['decided']:,} decided, "
            f"approve {_pct(c['approve_rate'])} / review {_pct(c['review_rate'])} / decline "
            f"{_pct(c['decline_rate'])}, {c['labelled']:,} labelled")


def _challenger_table(rows: list[dict[str, Any]]) -> str:
    from tabulate import tabulate

    headers = ["challenger", "against", "paired", "agree", "+decline", "-decline", "+approve", "-approve",
               "corr", "labelled", "immature", "AUC", "champion AUC", "delta AUC"]
    body = [[f"{r['challenger_id']} ({r['challenger_recipe']}, {r['challenger_status']})", r["champion_id"],
             f"{r['paired']:,}", _pct(r["agreement_rate"]), r["challenger_would_decline"],
             r["challenger_would_not_decline"], r["challenger_would_approve"], r["challenger_would_not_approve"],
             _num(r["score_correlation"], 3), f"{r['labelled']:,}", f"{r['immature']:,}", _num(r["challenger_auc"]),
             _num(r["champion_auc"]), _num(r["auc_delta"], signed=True)] for r in rows]
    return tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True,
                    colalign=("left", "left", *["right"] * (len(headers) - 2)))


SWAPS = {"challenger_declines": "champion approved, challenger declines",
         "challenger_approves": "champion declined, challenger approves"}


def _swap_table(rows: list[dict[str, Any]]) -> str:
    from tabulate import tabulate

    headers = ["challenger", "swap set", "applications", "labelled", "frauds", "fraud amount", "false declines",
               "cost difference", "recall at champion's decline rate"]
    body = []
    for r in rows:
        recall = (f"{_pct(r['challenger_recall'])} vs {_pct(r['champion_recall'])} "
                  f"(at {_pct(r['champion_decline_rate'])})")
        for s in r["swap_sets"] or [None]:
            body.append([r["challenger_id"], "-", "0", "-", "-", "-", "-", "-", recall] if s is None else
                        [r["challenger_id"], SWAPS[s["swap"]], f"{s['applications']:,}", f"{s['labelled']:,}",
                         f"{s['frauds']:,}", f"{s['fraud_amount']:,.2f}", f"{s['false_declines']:,}",
                         f"{s['cost_difference']:+,.0f}", recall])
    return tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True,
                    colalign=("left", "left", *["right"] * (len(headers) - 2)))


@click.command("report")
@click.option("--detector", type=click.Choice(sorted(DETECTORS)), help="one detector (default: all)")
@click.option("--since", "since_text", metavar="T",
              help="only applications received from T on: ISO 8601 date/time, or a span back from now (7d, 12h)")
@click.option("--by", "by", type=click.Choice(["channel", "amount_band", "age_band", "region"]),
              help="instead: each model's performance split by this segment (model_segments)")
@click.option("--json", "as_json", is_flag=True, help="print the figures as JSON instead of tables")
def report(detector: str | None, since_text: str | None, by: str | None, as_json: bool) -> None:
    """The champion against each challenger, paired on the same applications.

    Columns: paired applications; agreement of decisions; how many the challenger would have
    declined (+decline) or not (-decline) where the champion did otherwise, and the same for
    approve; correlation of scores; mature labelled and still immature pairs; both AUCs on the
    same labelled applications and the difference (challenger minus champion).

    Swap sets: the applications one would approve and the other decline, with their mature
    frauds, fraud amount, false declines and the cost difference (challenger minus champion,
    under view_settings' costs; negative favours the challenger); and each model's recall if it
    declined the share of labelled applications the champion declines."""
    from arbiter.insights.reporting import Window, comparison_report, parse_since

    window = Window(detector, parse_since(since_text) if since_text else None)
    scope = f"{detector or 'any detector'}" + (f" since {window.since:%Y-%m-%d %H:%M} UTC" if window.since else "")
    if by is not None:
        _segment_report(window, scope, by, as_json)
        return
    with platform_for_command() as platform:
        cli_actor(platform, *ROLES)  # with ARBITER_TOKEN: any role reads reports (viewer and up)
        entries = comparison_report(platform, window)
    has_data = any((e.champion and e.champion["decided"]) or e.challengers for e in entries)
    if not has_data:
        raise click.ClickException(f"no data to report for {scope}: no decisions or shadow scores recorded")
    if as_json:
        click.echo(json.dumps([{"detector": e.detector, "champion": e.champion, "challengers": e.challengers}
                               for e in entries], default=str, indent=2))
        return
    for line in render(entries, scope):
        click.echo(line)


def _segment_report(window: Any, scope: str, by: str, as_json: bool) -> None:
    from tabulate import tabulate

    from arbiter.insights.reporting import segments

    with platform_for_command() as platform, platform.engine.connect() as conn:
        cli_actor(platform, *ROLES)
        rows = segments(conn, platform.engine.dialect.name, window, by)
    if not rows:
        raise click.ClickException(f"no data to report for {scope} by {by}: no application recorded with one "
                                   "(segments are derived from revision 0015 on)")
    if as_json:
        click.echo(json.dumps(rows, default=str, indent=2))
        return
    headers = ["model", by, "applications", "approve", "review", "decline", "labelled", "frauds", "precision",
               "recall", "false declines", "expected cost"]
    click.echo(f"Performance by {by}, {scope}. Labels of mature days only.")
    click.echo(tabulate([[r["model_id"], r["segment"], f"{r['applications']:,}", _pct(r["approve_rate"]),
                          _pct(r["review_rate"]), _pct(r["decline_rate"]), f"{r['labelled']:,}", f"{r['frauds']:,}",
                          _pct(r["precision"]), _pct(r["recall"]), f"{r['false_declines']:,}",
                          f"{r['expected_cost']:,.0f}"] for r in rows],
                        headers=headers, tablefmt="simple", disable_numparse=True,
                        colalign=("left", "left", *["right"] * (len(headers) - 2))))


def render(entries: list[Any], scope: str) -> list[str]:
    """The report as lines of text: per detector, the champion's line and the challengers' table."""
    lines = [f"Champion against challengers, {scope}. AUCs on mature labelled applications only.", ""]
    for entry in entries:
        lines.append(_champion_line(entry))
        lines.append(_challenger_table(entry.challengers) if entry.challengers else
                     "  no challenger has scored the applications this champion decided")
        if entry.challengers:
            lines += ["", "Swap sets (mature labels; cost: challenger minus champion):",
                      _swap_table(entry.challengers)]
        lines.append("")
    return lines
