"""The demo: the whole platform on a fresh machine, in one command.

migrate -> synthesize both detectors -> train the champion (`rf`) and three challengers
(`logreg`, `hgb`, `dbscan-outlier`; `h2o-gbm` too when Java runs, on a local H2O that is
stopped once training is done) on all but the newest rows -> register (verify + certify) ->
promote the champions, shadow the challengers -> start the gateway (and the shadow workers:
in-process with the embedded broker, `arbiter worker` with RabbitMQ) -> replay the newest rows
over HTTP with delayed labels -> wait until every decision and shadow score is stored -> the
comparison report and the dashboard's address -> keep serving until Ctrl-C (or stop: --no-serve).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click

from arbiter.bootstrap import Platform, bootstrap
from arbiter.broker.factory import is_embedded
from arbiter.cli.demo_services import DemoServices, pick_port
from arbiter.cli.progress import stage_bar
from arbiter.cli.replay import summary_lines
from arbiter.cli.replay_engine import ReplayOptions, read_rows, replay
from arbiter.cli.report import render
from arbiter.governance.model_strategies import model_strategy
from arbiter.governance.promotion import promote
from arbiter.governance.registry import register_bundle
from arbiter.governance.shadowing import change_shadow
from arbiter.insights.recording import recorded, set_label_maturity
from arbiter.insights.reporting import Window, comparison_report
from models.dataio import TIME_COLUMN, prepare_frame
from models.detectors import DETECTORS, get_detector
from models.recipes import get_recipe, h2o_engine
from models.synth import synthesize
from models.training import STAGES, train

CHAMPION_RECIPE = "rf"  # the seeds' model
CHALLENGER_RECIPES = ("logreg", "hgb", "dbscan-outlier")
H2O_CHALLENGER = "h2o-gbm"  # when Java runs
MIN_FRAUD_RATE = 0.01  # enough frauds in a few thousand replayed rows for the AUCs to mean something


@dataclass
class DemoOptions:
    """`arbiter demo`'s options (their defaults are the command's)."""

    rows: int
    replay_rows: int
    seed: int
    workdir: Path
    port: int
    label_delay: float
    serve: bool
    h2o: bool | None  # None: when Java runs


def java_runs() -> bool:
    """Whether `java -version` works here (H2O trains in a JVM)."""
    java = shutil.which("java")
    if java is None:
        return False
    try:
        return subprocess.run([java, "-version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_demo(options: DemoOptions) -> None:
    """Run the platform end to end on synthetic data, reporting as it goes."""
    platform = bootstrap()
    run_dir = options.workdir / time.strftime("%Y%m%d-%H%M%S")
    services: DemoServices | None = None
    try:
        s = platform.settings
        click.echo(f"database {_where(s.database_url)} at revision {platform.upgrade_database()}; "
                   f"broker {_where(s.broker_url)}")
        challengers = _challenger_recipes(options)
        try:
            replay_files = {name: _prepare_detector(platform, name, challengers, options, run_dir)
                            for name in sorted(DETECTORS)}
        finally:
            h2o_engine.shutdown()  # the JVM's heap is not needed to serve: the models run as ONNX
        _mature_at_once(platform)
        services = DemoServices(pick_port(options.port), run_dir / "logs", not is_embedded(s.broker_url))
        click.echo(f"\nstarting the gateway on {services.url}"
                   + (" and `arbiter worker`" if services.separate_workers else " (shadow workers in-process)")
                   + f"; logs in {services.log_dir}")
        services.start()
        scored = sum(_replay(services.url, name, path, options) for name, path in replay_files.items())
        _wait_until_recorded(platform, scored)
        _print_report(platform)
        click.echo(f"dashboard: {services.url}/dashboard   (also: `arbiter report`, and the SQL views in the README)")
        if options.serve:
            click.echo(f"serving on {services.url} until Ctrl-C (POST /v1/detectors/card-transactions/score)")
            try:
                services.wait()
            except KeyboardInterrupt:
                click.echo("\nstopping")
    finally:
        if services is not None:
            services.stop()
        platform.close()


def _where(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


def _challenger_recipes(options: DemoOptions) -> tuple[str, ...]:
    h2o = java_runs() if options.h2o is None else options.h2o
    if options.h2o is None:
        click.echo(f"Java found: {H2O_CHALLENGER} joins the challengers, trained on a local H2O" if h2o else
                   f"Java not found: no {H2O_CHALLENGER} challenger (a JDK 8-17 on PATH adds one)")
    return (*CHALLENGER_RECIPES, H2O_CHALLENGER) if h2o else CHALLENGER_RECIPES


def _prepare_detector(platform: Platform, name: str, challengers: tuple[str, ...], options: DemoOptions,
                      run_dir: Path) -> Path:
    """Synthesize, hold out the newest rows for the replay, train and register the models,
    promote the champion and shadow the challengers; the replay file."""
    detector = get_detector(name)
    rate = max(detector.fraud_rate, MIN_FRAUD_RATE)
    raw = synthesize(name, options.rows + options.replay_rows, options.seed, rate)
    frame = prepare_frame(raw, detector)
    newest = frame.index >= len(frame) - options.replay_rows  # prepare_frame sorts by time
    replay_file = run_dir / f"{name}-replay.csv"
    replay_file.parent.mkdir(parents=True, exist_ok=True)
    # without the synthetic application ids: each run's replay makes new applications
    frame[newest].drop(columns=[TIME_COLUMN, "application_id"], errors="ignore").to_csv(replay_file, index=False)
    training = frame[~newest].reset_index(drop=True)
    click.echo(f"\n{name}: {len(training):,} synthetic rows to train on ({int(training[detector.label].sum())} "
               f"fraud), the newest {int(newest.sum()):,} kept for the replay")
    registered: dict[str, str] = {}
    for recipe in (CHAMPION_RECIPE, *challengers):
        out = run_dir / f"{name}-{recipe}"
        with stage_bar(f"  training {recipe}", STAGES) as progress:
            result = train(detector, get_recipe(recipe), training, out, seed=options.seed, progress=progress)
        model = register_bundle(platform, out, actor="demo").model
        registered[recipe] = model.id
        click.echo(f"  {model.id:<42} validation AUC {result.manifest['metrics']['validation']['roc_auc']:.4f}  "
                   f"certified ({model.runtime}) max |diff| {model.certification['max_abs_diff']:.1e}  "
                   f"trained in {result.seconds:.1f}s  strategy {_thresholds(platform, model.id)}")
        if recipe == CHAMPION_RECIPE:  # first: each challenger's thresholds then match the champion's rates
            promote(platform, model.id, actor="demo", force=True, reason="demo: first champion, no shadow history yet")
    for recipe in challengers:
        change_shadow(platform, registered[recipe], True, actor="demo")  # binds its queue, then opens its window
    click.echo(f"  {registered[CHAMPION_RECIPE]} -> champion (forced: no shadow history yet, on record); "
               f"in shadow mode: {', '.join(registered[r] for r in challengers)}")
    return replay_file


def _thresholds(platform: Platform, model_id: str) -> str:
    strategy = model_strategy(platform, model_id)
    return f"review >= {strategy['review_threshold']:.4g}, decline >= {strategy['decline_threshold']:.4g}"


def _mature_at_once(platform: Platform) -> None:
    """The demo's labels arrive seconds after the decisions, not weeks: count them at once."""
    set_label_maturity(platform, 0)
    click.echo("\nview_settings.label_maturity_days = 0 for the demo (labels arrive seconds late, not weeks)")


def _replay(url: str, detector: str, path: Path, options: DemoOptions) -> int:
    rows = read_rows(path, get_detector(detector))
    replay_options = ReplayOptions(url, detector, concurrency=8, label_delay=options.label_delay)
    with click.progressbar(length=len(rows), label=f"replaying {detector}", file=sys.stderr) as bar:
        result = asyncio.run(replay(rows, replay_options, bar.update))
    for line in summary_lines(result, replay_options):
        click.echo(f"  {line}")
    return result.ok


def _wait_until_recorded(platform: Platform, expected: int, timeout: float = 180.0) -> None:
    """Until the recorder has every decision and no challenger has anything pending."""
    deadline = time.monotonic() + timeout
    while True:
        progress = recorded(platform)
        done = progress.decisions >= expected and progress.pending == 0
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    click.echo(f"\nrecorded {progress.decisions:,} decisions" + (
        "" if done else " (the workers are still behind: figures are partial)"))
    click.echo("shadow_coverage (per challenger):")
    click.echo(f"  {'model':<44}{'published':>10}{'scored':>8}{'dead':>6}{'pending':>9}")
    for row in progress.coverage:
        click.echo(f"  {row['model_id']:<44}{row['published']:>10}{row['scored']:>8}{row['dead_lettered']:>6}"
                   f"{row['pending']:>9}")


def _print_report(platform: Platform) -> None:
    entries = comparison_report(platform, Window())
    click.echo("")
    for line in render(entries, "this demo's replay"):
        click.echo(line)

