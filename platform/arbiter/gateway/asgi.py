"""ASGI entrypoint for uvicorn workers: `arbiter.gateway.asgi:app` (each worker composes its own)."""

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
