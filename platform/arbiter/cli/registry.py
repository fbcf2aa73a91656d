"""`arbiter register DIR` and `arbiter models list`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from arbiter.cli.platform import cli_actor, platform_for_command
from models.detectors import DETECTORS


@click.command("register")
@click.argument("bundle_dir", type=click.Path(file_okay=False, path_type=Path))
def register(bundle_dir: Path) -> None:
    """Verify, certify and store a model bundle in the registry."""
    from arbiter.governance.registry import register_bundle

    with platform_for_command() as platform:
        result = register_bundle(platform, bundle_dir, actor=cli_actor(platform, "data-scientist"))
    model, cert = result.model, result.model.certification
    if not result.created:
        click.echo(f"{model.id} already registered (same sha256 {model.sha256[:12]})")
        return
    click.echo(f"registered {model.id} ({model.detector}, {model.recipe}) sha256 {model.sha256[:12]}; "
               f"certified on {cert['rows']} rows with {cert['runtime']}: max |diff| {cert['max_abs_diff']:.2e} "
               f"<= {cert['tolerance']:g}")


@click.group("models")
def models_group() -> None:
    """Registered models."""


@models_group.command("list")
@click.option("--detector", type=click.Choice(sorted(DETECTORS)), default=None)
def list_models(detector: str | None) -> None:
    """List registered models with status, validation AUC and certification."""
    from arbiter.governance.registry import list_models as registered

    with platform_for_command() as platform:
        rows = registered(platform, detector)
    if not rows:
        click.echo("no models registered" + (f" for {detector}" if detector else ""))
        return
    header = ("ID", "DETECTOR", "RECIPE", "STATUS", "VAL AUC", "CERT DIFF", "REGISTERED")
    table = [header] + [
        (m.id, m.detector, m.recipe, m.status, f"{m.metrics.get('roc_auc') or 0:.4f}",
         f"{m.certification.get('max_abs_diff', float('nan')):.1e}", m.registered_at.strftime("%Y-%m-%d %H:%M"))
        for m in rows
    ]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@models_group.command("review")
@click.argument("model_id")
@click.option("--approve", "decision", flag_value="approve", help="approve it for shadow mode")
@click.option("--reject", "decision", flag_value="reject", help="reject it")
@click.option("--comment", default=None, help="why (required with --approve or --reject; kept in the audit trail)")
def review(model_id: str, decision: str | None, comment: str | None) -> None:
    """Show MODEL_ID's dossier (governance metadata, strategy, fairness); with --approve or --reject,
    review it (governance, not its registrant)."""
    from arbiter.governance.reviews import dossier, review_model

    with platform_for_command() as platform:
        if decision is not None:
            if not comment or len(comment.strip()) < 3:
                raise click.UsageError("--comment (at least 3 characters) is required with --approve or --reject")
            reviewed = review_model(platform, model_id, decision=decision, comment=comment,
                                    actor=cli_actor(platform, "governance"))
            click.echo(f"{model_id} {reviewed['review']['decision']} by {reviewed['review']['by']}")
            return
        for line in dossier_lines(dossier(platform, model_id)):
            click.echo(line)


def dossier_lines(found: dict[str, Any]) -> list[str]:
    """A model's dossier as text: what a reviewer reads before approving it."""
    model, meta, strategy = found["model"], found["governance"], found["strategy"]
    review = model["review"]
    validation = (meta.get("metrics") or {}).get("validation") or {}
    windows = meta.get("windows") or {}
    lines = [f"{model['id']} ({model['detector']}, {model['recipe']}), status {model['status']}, registered by "
             f"{model['registered_by']}; review: {review['decision']}" + (f" by {review['by']}" if review["by"]
                                                                         else ""),
             f"  windows: training {_window(windows.get('training'))}; validation {_window(windows.get('validation'))}",
             f"  validation ROC-AUC {validation.get('roc_auc') or 0:.4f}, certified max |diff| "
             f"{model['certification'].get('max_abs_diff', float('nan')):.1e}",
             f"  strategy: review >= {strategy['review_threshold']:.4g}, "
             f"decline >= {strategy['decline_threshold']:.4g}"]
    features = ((meta.get("feature_importance") or {}).get("values") or [])[:5]
    if features:
        lines.append("  most important: " + ", ".join(f"{f['feature']} {f['importance']:.3g}" for f in features))
    quality = meta.get("data_quality") or {}
    if quality:
        lines.append(f"  data quality: {quality.get('rows', '?')} rows, duplicates {quality.get('duplicate_rows', 0)}")
    for source in ("validation", "live"):
        fairness = found["fairness"][source]
        if not fairness:
            lines.append(f"  fairness ({source}): none" + (" yet (not scored in shadow mode)" if source == "live"
                                                            else " (no age or zip in this detector's bundle)"))
            continue
        lines.append(f"  fairness ({source}):")
        for dimension, rows in _fairness_rows(fairness):
            lines.extend(f"    {dimension:<10}{row}" for row in rows)
    return lines


def _fairness_rows(fairness: Any) -> list[tuple[str, list[str]]]:
    if isinstance(fairness, dict):  # validation: per dimension, segments and a ratio
        return [(d, [f"{s['segment']:<22}{s['rows']:>8,} rows  approval {s['approval_rate']:.1%}  decline "
                     f"{s['decline_rate']:.1%}" for s in v["segments"]] + [f"disparity ratio {_ratio(v)}"])
                for d, v in fairness["dimensions"].items()]
    grouped: dict[str, list[str]] = {}
    for r in fairness:
        grouped.setdefault(r["dimension"], []).append(
            f"{r['segment']:<22}{r['applications']:>8,} apps  approval {float(r['approval_rate'] or 0):.1%}  "
            f"disparity {float(r['disparity_ratio'] or 0):.2f}")
    return list(grouped.items())


def _ratio(figures: dict[str, Any]) -> str:
    return "n/a" if figures["disparity_ratio"] is None else f"{figures['disparity_ratio']:.2f}"


def _window(window: dict[str, Any] | None) -> str:
    if not window:
        return "?"
    return f"{window.get('from', '?')} .. {window.get('to', '?')} ({window.get('rows', '?')} rows)"
