"""`arbiter serve`."""

from __future__ import annotations

import os
import tempfile

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="worker processes (one per core is a good start)")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="uvicorn's per-request access log (paths only, never bodies)")
def serve(host: str, port: int, workers: int, access_log: bool) -> None:
    """Run the HTTP gateway (scoring, admin, health and metrics)."""
    import uvicorn

    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # one /metrics view over all workers: prometheus_client's multi-process mode
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="arbiter-metrics-")
    uvicorn.run("arbiter.gateway.asgi:app", host=host, port=port, workers=workers, access_log=access_log,
                log_config=None, timeout_graceful_shutdown=10)
