"""`arbiter promotions` and `arbiter proposals`: pending requests and their four-eyes decisions,
the admin API's `/promotions/{id}/approve|reject|withdraw` and `/proposals/...` counterparts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from arbiter.cli.platform import cli_actor, platform_for_command

ACTION_ROLES = {"approve": ("governance",), "reject": ("governance",), "withdraw": ("strategist", "operator")}


@click.group("promotions")
def promotions() -> None:
    """Promotion requests, and the history of promotions and rollbacks."""


@promotions.command("list")
@click.option("--pending", is_flag=True, help="only requests waiting for approval")
def list_promotions(pending: bool) -> None:
    """Promotions and rollbacks, newest first."""
    from tabulate import tabulate

    from arbiter.governance.promotion import history

    with platform_for_command() as platform:
        rows = history(platform, status="pending" if pending else None)
    if not rows:
        click.echo("no pending promotion requests" if pending else "no promotions on record")
        return
    click.echo(tabulate([[r["id"], r["detector"], r["action"], r["model_id"] or "", r["status"] +
                          (" (forced)" if r["forced"] else ""), r["actor"], r["decided_by"] or "",
                          r["created_at"][:19]] for r in rows],
                        headers=["id", "detector", "action", "model", "status", "by", "decided by", "at"],
                        tablefmt="simple", disable_numparse=True))


def _decide_promotion(promotion_id: int, action: str, comment: str) -> None:
    from arbiter.governance.promotion import decide

    with platform_for_command() as platform:
        result = decide(platform, promotion_id, action, comment=comment,
                        actor=cli_actor(platform, *ACTION_ROLES[action]))
    record = result.record
    if action == "approve" and not result.accepted:
        failed = [f"{n} ({g['detail']})" for n, g in (record["approval_gates"] or {}).items() if not g["passed"]]
        raise click.ClickException(f"gates failed at approval; request {promotion_id} closed as refused "
                                   f"(on record): {', '.join(failed)}")
    if action == "approve":
        click.echo(f"{record['model_id']} is now the champion of {record['detector']} "
                   f"(requested by {record['actor']}, approved by {record['decided_by']})")
    else:
        click.echo(f"promotion request {promotion_id} {record['status']} by {record['decided_by']}")


@click.group("proposals")
def proposals() -> None:
    """Strategy and rules changes waiting for another principal's approval."""


@proposals.command("list")
@click.option("--all", "everything", is_flag=True, help="decided ones too")
def list_proposals(everything: bool) -> None:
    """Pending proposals (--all: every one), newest first."""
    from tabulate import tabulate

    from arbiter.governance.proposals import proposals as listed

    with platform_for_command() as platform:
        rows = listed(platform, None if everything else "pending")
    if not rows:
        click.echo("no pending proposals" if not everything else "no proposals on record")
        return
    click.echo(tabulate([[r["id"], r["kind"], r["model_id"] or r["detector"], _change(r), r["status"],
                          r["proposed_by"], r["decided_by"] or ""] for r in rows],
                        headers=["id", "kind", "for", "change", "status", "proposed by", "decided by"],
                        tablefmt="simple", disable_numparse=True))


def _change(row: dict[str, Any]) -> str:
    change = row["change"]
    if row["kind"] == "rules":
        return f"{len(change['rules'])} rules"
    return f"review >= {change['review_threshold']:g}, decline >= {change['decline_threshold']:g}"


def _decide_proposal(proposal_id: int, action: str, comment: str) -> None:
    from arbiter.governance.proposals import decide

    with platform_for_command() as platform:
        row = decide(platform, proposal_id, action, comment=comment, actor=cli_actor(platform, *ACTION_ROLES[action]))
    version = f": {row['kind']} version {row['version']} in force" if row["version"] else ""
    click.echo(f"proposal {proposal_id} {row['status']} by {row['decided_by']}{version}")


def _decision_commands(group: click.Group, what: str, approval: str, decide: Callable[[int, str, str], None]) -> None:
    """`approve ID [--comment]`, `reject ID --comment` and `withdraw ID [--comment]` on `group`."""
    helps = {"approve": f"Approve a pending {what} (not your own): {approval}.",
             "reject": f"Reject a pending {what} (not your own).",
             "withdraw": f"Withdraw your own pending {what}."}
    for action, help_text in helps.items():
        def command(item_id: int, comment: str, action: str = action) -> None:
            decide(item_id, action, comment)

        command.__doc__ = help_text
        command = click.option("--comment", required=action == "reject", default=None if action == "reject" else "",
                               help="why (kept in the audit trail)")(command)
        command = click.argument("item_id", metavar="ID", type=int)(command)
        group.command(action)(command)


_decision_commands(promotions, "promotion request", "the gates run again, then the model is champion",
                   _decide_promotion)
_decision_commands(proposals, "proposal", "it becomes the version the gateways load", _decide_proposal)


@proposals.command("backtest")
@click.argument("proposal_id", type=int)
@click.option("--since", default="30d", show_default=True, help="ISO date or a span back from now (30d, 12h)")
@click.option("--json", "as_json", is_flag=True, help="print the whole result as JSON")
def backtest_proposal(proposal_id: int, since: str, as_json: bool) -> None:
    """How rules proposal PROPOSAL_ID would have done on the stored applications: hits per rule with
    their labels and amounts, and the decisions it would change (identities compared as keyed hashes)."""
    import json

    from arbiter.insights.reporting import parse_since
    from arbiter.insights.rules_backtest import backtest_rules

    moment = parse_since(since)
    with platform_for_command() as platform:
        cli_actor(platform, "strategist", "governance")
        result = backtest_rules(platform, proposal_id, moment)
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"proposal {proposal_id} ({result['detector']}) on {result['applications']:,} applications since "
               f"{result['since'][:19]}: {result['hit']:,} hit")
    for r in result["rules"]:
        click.echo(f"  {r['id']:<28} {r['hits']:>7,} hits  {r['frauds']:>6,} fraud  {r['legit']:>6,} legit  "
                   f"{r['unlabelled']:>6,} unlabelled  amount {r['amount']:,.2f}")
    for r in result["not_backtestable"]:
        click.echo(f"  {r['id']:<28} not backtestable: {r['why']}")
    for c in result["changed"]:
        click.echo(f"  would change {c['applications']:,}: {c['from']} -> {c['to']} "
                   f"({c['frauds']} fraud, {c['legit']} legit)")
