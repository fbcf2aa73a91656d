"""ASGI entrypoint for uvicorn workers: `arbiter.gateway.asgi:app` (each worker composes its own)."""

from arbiter import logs
from arbiter.bootstrap import bootstrap
from arbiter.gateway.app import create_app

logs.configure()
app = create_app(bootstrap())
