"""The demo: the end-to-end path that exists so far, on a fresh machine, in one command.

migrate -> synthesize both detectors -> train champion and challenger candidates ->
register (verify + certify) -> list -> score held-out rows through the registered bundles.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
import numpy as np

from arbiter.bootstrap import bootstrap
from arbiter.cli.progress import stage_bar
from arbiter.promotion import current_champion, promote, set_shadow
from arbiter.registry import bundle_path, register_bundle
from models.dataio import prepare_frame
from models.detectors import get_detector
from models.recipes import get_recipe
from models.runtimes import load_runtime
from models.synth import synthesize
from models.training import STAGES, train

PLAN = {
    "card-transactions": {"min_fraud": 100, "recipes": ("rf", "logreg", "hgb", "isolation-forest")},
    "card-applications": {"min_fraud": 100, "recipes": ("rf", "logreg", "hgb")},
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
        for detector_name, plan in PLAN.items():
            detector = get_detector(detector_name)
            rate = _fraud_rate(detector_name, rows, plan["min_fraud"])
            frame = prepare_frame(synthesize(detector_name, rows, seed, rate), detector)
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
            _score_sample(platform, detector_name)
    finally:
        platform.close()
    click.echo("\nnext: `arbiter models list`; `ARBITER_ADMIN_TOKEN=... arbiter serve` and POST to "
               "/v1/detectors/card-transactions/score. Shadow scoring over RabbitMQ, replay and dashboards "
               "join this demo with their issues.")


def _govern(platform, detector_name: str, registered: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """The rf model becomes champion (forced: no shadow history yet, the reason says so); the rest shadow."""
    with platform.sessions() as session, session.begin():
        result = promote(session, detector_name, registered[CHAMPION_RECIPE], reason="demo: first champion, "
                         "no shadow history yet", actor="demo", force=True)
        for recipe, model_id in registered.items():
            if recipe != CHAMPION_RECIPE:
                set_shadow(session, model_id, True)
    state = "champion" if result.accepted else "not promoted"
    click.echo(f"  {registered[CHAMPION_RECIPE]} -> {state}; challengers in shadow mode: "
               f"{', '.join(m for r, m in registered.items() if r != CHAMPION_RECIPE)}")


def _score_sample(platform, detector_name: str) -> None:  # type: ignore[no-untyped-def]
    """Score held-out rows through the champion's bundle with the onnx runtime, as the gateway does."""
    with platform.sessions() as session:
        champion = current_champion(session, detector_name)
    runtime = load_runtime(bundle_path(platform.settings.registry_dir, champion))


    rows = json.loads((runtime.bundle.path / "certification.json").read_text())["rows"]
    started = time.perf_counter()
    for row in rows[:200]:
        runtime.score_records([row])
    per_row = (time.perf_counter() - started) / min(len(rows), 200)
    scores = runtime.score_records(rows)
    click.echo(f"  served {champion.id} on {len(rows)} held-out rows: {per_row * 1e3:.2f} ms/row one at a time, "
               f"scores p50 {np.median(scores):.3f} max {scores.max():.3f}")
