"""ASGI entrypoint for uvicorn workers: `arbiter.gateway.asgi:app` (each worker composes its own)."""

import gc

from arbiter import logs
from arbiter.bootstrap import bootstrap
from arbiter.gateway.app import create_app

# Python's default 5 ms switch interval stays in force: the gateway's other threads (the publisher's
# relay, or the publisher itself with ARBITER_PUBLISHER=thread) hand the GIL back to the event loop
# less often than at 1 ms (+15% requests/s at concurrency 32 with the publisher thread,
# bench/gateway_throughput.py). Rebuilding the serving state after a promotion switches to 1 ms
# for its duration (serving/state.py, quick_thread_switches), so a hot swap still lands in time.
logs.configure()
app = create_app(bootstrap())
# Everything loaded so far (libraries, the app) lives as long as the process: keep it out of the
# collector's sweeps, and collect the young generation less often. Each request allocates a few
# short-lived dicts, and the publisher holds ~10 ms of them; the default threshold (700) ran a
# collection every few requests. Measured: +8% requests/s at concurrency 32 (bench/gateway_throughput.py).
gc.collect()
gc.freeze()
gc.set_threshold(20_000, 50, 100)
