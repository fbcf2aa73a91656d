"""The demo: the whole platform on a fresh machine, in one command.

migrate -> synthesize both detectors -> train the champion (`rf`) and three challengers
(`logreg`, `hgb`, `dbscan-outlier`; `h2o-gbm` too when Java runs, on a local H2O that is
stopped once training is done) on all but the newest rows -> register (verify + certify) ->
review each model (four eyes) -> promote the champions (break-glass, reviewed after) and shadow
the challengers -> start the gateway (and the shadow workers:
in-process with the embedded broker, `arbiter worker` with RabbitMQ) -> replay the newest rows
over HTTP with delayed labels -> wait until every decision and shadow score is stored -> the
comparison report -> a strategist asks for the best challenger's promotion and a governance
reviewer approves it, over the admin API -> the dashboard's address -> keep serving until Ctrl-C
(or stop: --no-serve). Every step is taken by a principal the demo creates (a data scientist, a
governance reviewer, a strategist, an operator) and printed with who did it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import httpx

from arbiter.bootstrap import Platform, bootstrap
from arbiter.broker.factory import is_embedded
from arbiter.cli.demo_services import DemoServices, pick_port
from arbiter.cli.platform import cli_actor
from arbiter.cli.progress import stage_bar
from arbiter.cli.replay import summary_lines
from arbiter.cli.replay_engine import ReplayOptions, read_rows, replay
from arbiter.cli.report import render
from arbiter.governance.configuration import synthetic_rules
from arbiter.governance.model_strategies import model_strategy
from arbiter.governance.principals import add_principal
from arbiter.governance.promotion import promote, review_forced
from arbiter.governance.proposals import decide, submit_rules
from arbiter.governance.registry import register_bundle
from arbiter.governance.reviews import dossier, review_model
from arbiter.governance.shadowing import change_shadow
from arbiter.governance.view_settings import SettingsChange, change_settings
from arbiter.insights.recording import recorded
from arbiter.insights.reporting import DetectorReport, Window, comparison_report
from models.dataio import TIME_COLUMN, prepare_frame
from models.detectors import DETECTORS, get_detector
from models.recipes import get_recipe, h2o_engine
from models.synth import synthesize
from models.training import STAGES, train

CHAMPION_RECIPE = "rf"  # the seeds' model
CHALLENGER_RECIPES = ("logreg", "hgb", "dbscan-outlier")
H2O_CHALLENGER = "h2o-gbm"  # when Java runs
MIN_FRAUD_RATE = 0.01  # enough frauds in a few thousand replayed rows for the AUCs to mean something
ROLES = {"scientist": "data-scientist", "reviewer": "governance", "strategist": "strategist", "operator": "operator",
         "viewer": "viewer"}
# the gates sized for a replay of a few hundred applications (a bank's defaults want 10,000 labelled
# and 100 frauds); only where the environment does not set them, and printed
LAB_GATES = {"ARBITER_PROMOTION_MIN_SHADOW": "100", "ARBITER_PROMOTION_MIN_LABELLED": "200",
             "ARBITER_PROMOTION_MIN_FRAUDS": "3", "ARBITER_PROMOTION_AUC_TOLERANCE": "0.2",
             "ARBITER_PROMOTION_RATE_TOLERANCE": "1.5", "ARBITER_PROMOTION_MIN_DISPARITY": "0.5"}


@dataclass(frozen=True)
class Cast:
    """The principals the demo acts as: name and token per part."""

    names: dict[str, str]
    tokens: dict[str, str]


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
    lab = _lab_gates()
    platform = bootstrap()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = options.workdir / stamp
    services: DemoServices | None = None
    try:
        s = platform.settings
        click.echo(f"database {_where(s.database_url)} at revision {platform.upgrade_database()}; "
                   f"broker {_where(s.broker_url)}; governance {s.governance}")
        cast = _cast(platform, stamp)
        _synthetic_deny_lists(platform, cast)
        if lab:
            click.echo(f"promotion gates sized for the demo's replay (the environment can set them): {lab}")
        challengers = _challenger_recipes(options)
        try:
            replay_files = {name: _prepare_detector(platform, name, challengers, options, run_dir, cast)
                            for name in sorted(DETECTORS)}
        finally:
            h2o_engine.shutdown()  # the JVM's heap is not needed to serve: the models run as ONNX
        _mature_at_once(platform, cast)
        services = DemoServices(pick_port(options.port), run_dir / "logs", not is_embedded(s.broker_url))
        click.echo(f"\nstarting the gateway on {services.url}"
                   + (" and `arbiter worker`" if services.separate_workers else " (shadow workers in-process)")
                   + f"; logs in {services.log_dir}")
        services.start()
        scored = sum(_replay(services.url, name, path, options) for name, path in replay_files.items())
        _wait_until_recorded(platform, scored)
        entries = _print_report(platform)
        _promotion_walk(services.url, cast, entries)
        click.echo(f"dashboard: {services.url}/dashboard   sign in as {cast.names['viewer']} with the password "
                   f"{cast.tokens['viewer']} (a viewer's token, shown this once; also: `arbiter report`, and the SQL "
                   "views in the README)")
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


def _lab_gates() -> str:
    """Set the demo-sized gates the environment does not set (the gateway it starts inherits them)."""
    chosen = {k: v for k, v in LAB_GATES.items() if k not in os.environ}
    os.environ.update(chosen)
    return ", ".join(f"{k.removeprefix('ARBITER_PROMOTION_').lower()}={v}" for k, v in chosen.items())


def _cast(platform: Platform, stamp: str) -> Cast:
    """A data scientist, a governance reviewer, a strategist and an operator for this run (names are
    never reused, so each run has its own)."""
    actor = cli_actor(platform, "operator")
    names = {part: f"demo-{part}-{stamp}" for part in ROLES}
    tokens = {part: add_principal(platform, names[part], [ROLES[part]], actor=actor) for part in ROLES}
    click.echo("principals (by " + actor + "): " + ", ".join(f"{names[p]} ({ROLES[p]})" for p in ROLES))
    return Cast(names, tokens)


def _synthetic_deny_lists(platform: Platform, cast: Cast) -> None:
    """A fresh database has no deny lists; the demo's synthetic ones go through a proposal."""
    detector = "card-applications"
    submitted = submit_rules(platform, detector, synthetic_rules(detector), actor=cast.names["strategist"])
    if submitted.pending:
        decide(platform, submitted.record["id"], "approve", actor=cast.names["reviewer"],
               comment="synthetic lists for the demo")
    click.echo(f"{detector}: the synthetic deny lists proposed by {cast.names['strategist']}"
               + (f", approved by {cast.names['reviewer']}" if submitted.pending else " (governance off: at once)"))


def _prepare_detector(platform: Platform, name: str, challengers: tuple[str, ...], options: DemoOptions,
                      run_dir: Path, cast: Cast) -> Path:
    """Synthesize, hold out the newest rows for the replay, train and register the models (the data
    scientist), review them (the reviewer), promote the champion (the operator's break-glass,
    reviewed after) and shadow the challengers (the strategist); the replay file."""
    who = cast.names
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
            result = train(detector, get_recipe(recipe), training, out, seed=options.seed, progress=progress,
                           identity_key=platform.identity_key)
        model = register_bundle(platform, out, actor=who["scientist"]).model
        registered[recipe] = model.id
        click.echo(f"  {model.id:<42} validation AUC {result.manifest['metrics']['validation']['roc_auc']:.4f}  "
                   f"certified ({model.runtime}) max |diff| {model.certification['max_abs_diff']:.1e}  "
                   f"trained in {result.seconds:.1f}s  strategy {_thresholds(platform, model.id)}")
        click.echo(f"    registered by {who['scientist']}; {_review(platform, model.id, who['reviewer'])}")
        if recipe == CHAMPION_RECIPE:  # first: each challenger's thresholds then match the champion's rates
            forced = promote(platform, model.id, actor=who["operator"], force=True,
                             reason="demo: first champion, no shadow history yet")
            review_forced(platform, forced.record["id"], actor=who["reviewer"],
                          comment="first champion of a new detector: nothing to compare it with yet")
    for recipe in challengers:  # binds its queue, then opens its window
        change_shadow(platform, registered[recipe], True, actor=who["strategist"])
    click.echo(f"  {registered[CHAMPION_RECIPE]} -> champion (forced by {who['operator']}: no shadow history yet; "
               f"reviewed after by {who['reviewer']}); in shadow mode (by {who['strategist']}): "
               f"{', '.join(registered[r] for r in challengers)}")
    return replay_file


def _review(platform: Platform, model_id: str, reviewer: str) -> str:
    """The reviewer reads the dossier (fairness on the validation window) and approves the model."""
    fairness = dossier(platform, model_id)["fairness"]["validation"]
    ratios = {d: f["disparity_ratio"] for d, f in (fairness or {}).get("dimensions", {}).items()}
    seen = ", ".join(f"{d} disparity {r:.2f}" for d, r in ratios.items() if r is not None) or "no age or region"
    review_model(platform, model_id, decision="approve", actor=reviewer,
                 comment=f"governance metadata and validation fairness read ({seen})")
    return f"approved by {reviewer} ({seen})"


def _thresholds(platform: Platform, model_id: str) -> str:
    strategy = model_strategy(platform, model_id)
    return f"review >= {strategy['review_threshold']:.4g}, decline >= {strategy['decline_threshold']:.4g}"


def _mature_at_once(platform: Platform, cast: Cast) -> None:
    """The demo's labels arrive seconds after the decisions, not weeks: count them at once."""
    change_settings(platform, SettingsChange(label_maturity_days=0), actor=cast.names["operator"])
    click.echo(f"\nview_settings.label_maturity_days = 0 for the demo, by {cast.names['operator']} "
               "(labels arrive seconds late, not weeks)")


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


def _print_report(platform: Platform) -> list[DetectorReport]:
    entries = comparison_report(platform, Window())
    click.echo("")
    for line in render(entries, "this demo's replay"):
        click.echo(line)
    return entries


def _promotion_walk(url: str, cast: Cast, entries: list[DetectorReport]) -> None:
    """Over the admin API: the strategist asks for the best challenger's promotion (the gates run),
    the reviewer approves it (the gates run again): who did what, printed."""
    candidates = [(c["challenger_auc"] or 0.0, c["challenger_id"], e.detector) for e in entries for c in e.challengers
                  if c["challenger_auc"] is not None]
    if not candidates:
        click.echo("\nno challenger has labelled evidence: no promotion asked for")
        return
    _, model_id, detector = max(candidates)
    who, auth = cast.names, {p: {"Authorization": f"Bearer {t}"} for p, t in cast.tokens.items()}
    with httpx.Client(base_url=url, timeout=60) as client:
        asked = client.post("/admin/v1/champion", headers=auth["strategist"], json={
            "detector": detector, "model_id": model_id, "reason": "demo: best challenger AUC on the replay"})
        click.echo(f"\npromotion of {model_id} asked for by {who['strategist']}: HTTP {asked.status_code}")
        if asked.status_code != 202:
            click.echo(f"  refused by the gates (on record): {_failed(asked.json())}")
            return
        request = asked.json()
        click.echo(f"  request {request['id']} pending; every gate passed: {', '.join(request['gates'])}")
        own = client.post(f"/admin/v1/promotions/{request['id']}/approve", headers=auth["strategist"], json={})
        click.echo(f"  {who['strategist']} approving it: HTTP {own.status_code} ({own.json().get('detail', own.text)})")
        approved = client.post(f"/admin/v1/promotions/{request['id']}/approve", headers=auth["reviewer"],
                               json={"comment": "evidence read: gates pass at approval too"})
        if approved.status_code != 200:
            click.echo(f"  approval by {who['reviewer']}: HTTP {approved.status_code}, the gates failed when run "
                       f"again (on record): {_failed(approved.json())}")
            return
        click.echo(f"  approved by {who['reviewer']} (the gates ran again): {model_id} is the champion of "
                   f"{detector}; requested by {approved.json()['actor']}, approved by {approved.json()['decided_by']}")


def _failed(answer: dict[str, Any]) -> str:
    return "; ".join(e["message"] for e in answer.get("errors", [])) or str(answer.get("detail", answer))[:200]

