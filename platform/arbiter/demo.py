"""The demo: the end-to-end path that exists so far, on a fresh machine, in one command.

migrate -> synthesize both detectors -> train champion and challenger candidates ->
register (verify + certify) -> promote the champions, shadow the rest -> score held-out
applications through the champion path, fanned out to the challengers (in-process workers,
over whichever broker ARBITER_BROKER_URL names) -> the shadow_coverage view.
"""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import click
import pandas as pd
from sqlalchemy import text

from arbiter.bootstrap import Platform, bootstrap
from arbiter.cli.progress import stage_bar
from arbiter.fanout import Fanout
from arbiter.promotion import promote
from arbiter.registry import register_bundle
from arbiter.scoring import Application, Scorer
from arbiter.serving_state import ServingState
from arbiter.shadowing import change_shadow
from models.dataio import prepare_frame
from models.detectors import get_detector
from models.recipes import get_recipe
from models.synth import synthesize
from models.training import STAGES, train

PLAN = {
    "card-transactions": {"min_fraud": 100, "recipes": ("rf", "logreg", "hgb", "isolation-forest")},
    "card-applications": {"min_fraud": 100, "recipes": ("rf", "logreg", "hgb", "isolation-forest")},
}
CHAMPION_RECIPE = "rf"  # the seeds' model; the others run as challengers in shadow mode


def _fraud_rate(detector_name: str, rows: int, min_fraud: int) -> float:
    """The detector's realistic rate, raised where a small demo would otherwise see too little fraud."""
    return max(get_detector(detector_name).fraud_rate, min_fraud / rows)


def run_demo(rows: int, seed: int, workdir: Path) -> None:
    """Run the platform end to end on synthetic data, reporting as it goes."""
    platform = bootstrap()
    try:
        click.echo(f"database: revision {platform.upgrade_database()}")
        run_id = time.strftime("%Y%m%d-%H%M%S")
        held_out: dict[str, list[dict[str, Any]]] = {}
        for detector_name, plan in PLAN.items():
            detector = get_detector(detector_name)
            rate = _fraud_rate(detector_name, rows, plan["min_fraud"])
            raw = synthesize(detector_name, rows, seed, rate)
            frame = prepare_frame(raw, detector)
            click.echo(f"\n{detector_name}: {rows} synthetic rows, {int(frame[detector.label].sum())} fraud")
            registered: dict[str, str] = {}
            for recipe in plan["recipes"]:
                out = workdir / run_id / f"{detector_name}-{recipe}"
                with stage_bar(f"  training {recipe}", STAGES) as report:
                    result = train(detector, get_recipe(recipe), frame, out, seed=seed, progress=report)
                registration = register_bundle(out, platform.sessions, platform.settings.registry_dir,
                                               tolerance=platform.settings.certification_tolerance)
                model, cert = registration.model, registration.model.certification
                registered[recipe] = model.id
                click.echo(f"  {model.id:<40} validation AUC {result.manifest['metrics']['validation']['roc_auc']:.4f}"
                           f"  certified max |diff| {cert['max_abs_diff']:.1e}  trained in {result.seconds:.1f}s")
            _govern(platform, detector_name, registered)
            held_out[detector_name] = _held_out(raw, detector_name, min(2_000, rows // 5))
        click.echo("\nshadow mode: held-out applications through the gateway's scoring path, fanned out to "
                   f"the challengers over {platform.settings.broker_url.split('@')[-1]}")
        _shadow_traffic(platform, held_out)
    finally:
        platform.close()
    click.echo("\nnext: `arbiter models list`; `ARBITER_ADMIN_TOKEN=... arbiter serve` and POST to "
               "/v1/detectors/card-transactions/score; with RabbitMQ, run `arbiter worker` beside it. "
               "Replay and dashboards join this demo with their issues.")


def _govern(platform: Platform, detector_name: str, registered: dict[str, str]) -> None:
    """The rf model becomes champion (forced: no shadow history yet, the reason says so); the rest shadow."""
    with platform.sessions() as session, session.begin():
        result = promote(session, detector_name, registered[CHAMPION_RECIPE], reason="demo: first champion, "
                         "no shadow history yet", actor="demo", force=True)
    for recipe, model_id in registered.items():
        if recipe != CHAMPION_RECIPE:
            change_shadow(platform, model_id, True)  # binds the challenger's queue, then opens its window
    state = "champion" if result.accepted else "not promoted"
    click.echo(f"  {registered[CHAMPION_RECIPE]} -> {state}; challengers in shadow mode: "
               f"{', '.join(m for r, m in registered.items() if r != CHAMPION_RECIPE)}")


def _held_out(raw: pd.DataFrame, detector_name: str, rows: int) -> list[dict[str, Any]]:
    """The newest `rows` applications (the validation window), as the gateway would receive them."""
    detector = get_detector(detector_name)
    tail = raw.tail(rows).drop(columns=[c for c in (detector.label, "application_id") if c in raw.columns])
    return [{k: v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))}
            for row in tail.to_dict(orient="records")]


def _shadow_traffic(platform: Platform, held_out: dict[str, list[dict[str, Any]]]) -> None:
    """Score the held-out applications through the champion path, fan them out, and show the coverage."""
    serving = ServingState(platform.sessions, platform.settings.registry_dir)
    serving.refresh()
    fanout = Fanout(platform, run_workers=True)  # the workers in this process, whichever broker
    fanout.start()
    try:
        scorer = Scorer(serving, platform.hasher, sink=fanout.sink)
        for detector_name, records in held_out.items():
            decisions: Counter[str] = Counter()
            started = time.perf_counter()
            with click.progressbar(length=len(records), label=f"  scoring {detector_name}", file=sys.stderr) as bar:
                for offset in range(0, len(records), 100):
                    batch = [Application(None, r) for r in records[offset:offset + 100]]
                    decisions.update(r["decision"] for r in scorer.score(detector_name, batch))
                    bar.update(len(batch))
            per_app = (time.perf_counter() - started) / len(records) * 1e3
            champion = serving.snapshot.detectors[detector_name].champion
            click.echo(f"  served {champion.model_id if champion else 'rules only'} on {len(records)} held-out "
                       f"applications ({per_app:.2f} ms each in batches of 100): {dict(decisions)}")
        click.echo("  waiting for the shadow workers to record every decision and challenger score ...")
        if not fanout.flush(600):
            click.echo("  (the workers are still behind; the coverage below is partial)")
    finally:
        fanout.close()
    _print_coverage(platform)


def _print_coverage(platform: Platform) -> None:
    with platform.engine.connect() as conn:
        rows = conn.execute(text("SELECT model_id, published, scored, dead_lettered, pending FROM shadow_coverage "
                                 "ORDER BY model_id")).all()
    click.echo("\nshadow_coverage (per challenger):")
    click.echo(f"  {'model':<44}{'published':>10}{'scored':>8}{'dead':>6}{'pending':>9}")
    for model_id, published, scored, dead, pending in rows:
        click.echo(f"  {model_id:<44}{published:>10}{scored:>8}{dead:>6}{pending:>9}")
