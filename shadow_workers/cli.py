"""`arbiter worker`: the shadow path's consumers as a process (entry point `arbiter.commands:worker`)."""

from __future__ import annotations

import signal

import click

from arbiter.config import Settings


def _default(name: str) -> object:
    return Settings.model_fields[name].default


@click.command("worker")
@click.option("--detector", default=None, help="only this detector's challengers (default: every detector)")
@click.option("--models", default="all", show_default=True, help="'all' challengers, or comma-separated model ids")
@click.option("--recorder/--no-recorder", default=True, show_default=True,
              help="also record the champion's decisions (the arbiter.recorder queue)")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=None,
              help=f"messages per batch [ARBITER_WORKER_BATCH_SIZE, {_default('worker_batch_size')}]")
@click.option("--max-wait", type=click.FloatRange(0.001, 60), default=None,
              help=f"seconds to wait to fill a batch [ARBITER_WORKER_MAX_WAIT, {_default('worker_max_wait')}]")
@click.option("--max-attempts", type=click.IntRange(1, 100), default=None,
              help="failures before a message is dead-lettered "
                   f"[ARBITER_WORKER_MAX_ATTEMPTS, {_default('worker_max_attempts')}]")
@click.option("--metrics-port", type=click.IntRange(1, 65535), default=None,
              help="serve Prometheus /metrics and /healthz on this port (default: none)")
def worker(detector: str | None, models: str, recorder: bool, batch_size: int | None, max_wait: float | None,
           max_attempts: int | None, metrics_port: int | None) -> None:
    """Consume the challenger queues (and the recorder queue) until SIGTERM; the batch in hand is finished."""
    from arbiter import logs
    from arbiter.bootstrap import bootstrap
    from models.detectors import get_detector
    from shadow_workers.metrics import WorkerMetrics
    from shadow_workers.selection import Selection
    from shadow_workers.worker import Worker, WorkerOptions

    if detector is not None:
        get_detector(detector)  # unknown detector: one line, exit 1
    selection = Selection.parse(detector, models, recorder)
    logs.configure()
    platform = bootstrap()
    options = WorkerOptions.from_settings(platform, batch_size=batch_size, max_wait=max_wait,
                                          max_attempts=max_attempts)
    metrics = WorkerMetrics()
    try:
        server = metrics.serve(metrics_port) if metrics_port else None
    except OSError as exc:
        raise click.ClickException(f"cannot serve metrics on port {metrics_port}: {exc.strerror or exc}") from None
    consumer = Worker(platform, selection, options, metrics)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: consumer.stop())
    click.echo(f"worker: broker {platform.settings.broker_url.split('@')[-1]}, batches of {options.batch_size} "
               f"(max wait {options.max_wait}s), dead-letter after {options.max_attempts} attempts", err=True)
    try:
        consumer.run()
    finally:
        if server is not None:
            server.shutdown()
        platform.close()
