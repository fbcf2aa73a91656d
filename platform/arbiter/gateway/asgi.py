"""ASGI entrypoint for uvicorn workers: `arbiter.gateway.asgi:app` (each worker composes its own)."""

import gc
import sys

from arbiter import logs
from arbiter.bootstrap import bootstrap
from arbiter.gateway.app import create_app

# The serving-state watcher and the recorder are threads; with the default 5 ms switch interval
# the busy event loop starves them (a promotion took 1.5 s to land under load) and each GIL
# handback after onnxruntime or socket I/O can wait that long. 1 ms keeps both short.
sys.setswitchinterval(0.001)
logs.configure()
app = create_app(bootstrap())
# Everything loaded so far (libraries, the app) lives as long as the process: keep it out of the
# collector's sweeps, and collect the young generation less often. Each request allocates a few
# short-lived dicts, and the publisher holds ~25 ms of them; the default threshold (700) ran a
# collection every few requests. Measured: +8% requests/s at concurrency 32 (bench/gateway_throughput.py).
gc.collect()
gc.freeze()
gc.set_threshold(20_000, 50, 100)
