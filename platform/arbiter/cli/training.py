"""`arbiter train`."""

from __future__ import annotations

from pathlib import Path

import click

from models.detectors import DETECTORS, get_detector
from models.recipes import H2O_RECIPES, RECIPE_NAMES, get_recipe


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--param")
        out[key.strip()] = value.strip()
    return out


@click.command("train")
@click.option("--detector", required=True, type=click.Choice(sorted(DETECTORS)))
@click.option("--recipe", required=True, type=click.Choice(sorted(RECIPE_NAMES)), help="how to train")
@click.option("--data", "data_file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="CSV")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="bundle directory")
@click.option("--train-until", default=None,
              help="end of the training window (detector time unit; default: 75% of the time span)")
@click.option("--min-auc", type=click.FloatRange(0.0, 1.0), default=None,
              help="fail, writing nothing, when validation ROC-AUC is below this")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="override a hyper-parameter")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--name", default=None, help="model name (default: <detector>-<recipe>)")
@click.option("--h2o-url", envvar="ARBITER_H2O_URL", default=None, metavar="URL",
              help="h2o-* recipes: train on the H2O cluster at URL (default: start a local one on 127.0.0.1)")
def train(detector: str, recipe: str, data_file: Path, out: Path, train_until: str | None, min_auc: float | None,
          params: tuple[str, ...], seed: int, name: str | None, h2o_url: str | None) -> None:
    """Train a model and write a governed, certified bundle to OUT."""
    from arbiter.bootstrap import identity_key_of
    from arbiter.cli.progress import stage_bar
    from arbiter.config import get_settings
    from models.dataio import read_dataset
    from models.training import STAGES, parse_time
    from models.training import train as train_bundle

    det, rec = get_detector(detector), get_recipe(recipe)
    overrides = _params(params)
    rec.resolve_params(overrides, seed)  # fail on a bad --param before reading the data
    until = parse_time(train_until, det) if train_until is not None else None
    frame = read_dataset(data_file, det)
    if recipe in H2O_RECIPES:
        from models.recipes import h2o_engine

        h2o_engine.use_cluster(h2o_url)
        engine = h2o_engine.cluster()
        click.echo(f"H2O {engine.version} at {engine.url} ({'started here' if engine.owned else 'attached'})", err=True)
    with stage_bar(f"training {recipe}", STAGES) as report:
        result = train_bundle(det, rec, frame, out, train_until=until, min_auc=min_auc, params=overrides,
                              seed=seed, name=name, progress=report,
                              identity_key=identity_key_of(get_settings()))  # ARBITER_PII_KEY, as the gateways
    m = result.manifest
    v = m["metrics"]["validation"]
    click.echo(f"bundle {result.bundle_dir}: {m['name']} ({recipe}) validation ROC-AUC {v['roc_auc']:.4f}, "
               f"PR-AUC {v['pr_auc']:.4f}, F1 {v['f1']:.3f} at {v['threshold']:.3f}; "
               f"{m['windows']['training']['rows']} training / {m['windows']['validation']['rows']} validation rows; "
               f"{result.seconds:.1f}s")
