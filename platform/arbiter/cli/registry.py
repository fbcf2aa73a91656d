"""`arbiter register DIR` and `arbiter models list`."""

from __future__ import annotations

from pathlib import Path

import click

from arbiter.cli.platform import cli_actor, platform_for_command
from models.detectors import DETECTORS


@click.command("register")
@click.argument("bundle_dir", type=click.Path(file_okay=False, path_type=Path))
def register(bundle_dir: Path) -> None:
    """Verify, certify and store a model bundle in the registry."""
    from arbiter.governance.registry import register_bundle

    with platform_for_command() as platform:
        result = register_bundle(platform, bundle_dir, actor=cli_actor())
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
