"""The gateway's half of the shadow path: the publisher, and in embedded mode the workers too.

With `memory://` the broker lives in this process, so the workers must as well: they are
started (through the `arbiter.embedded` extension point) before the publisher, so every
challenger's queue exists before the first message is routed.
"""

from __future__ import annotations

from typing import Any

from arbiter import plugins
from arbiter.bootstrap import Platform
from arbiter.broker.factory import is_embedded, make_publisher
from arbiter.broker.publisher import Publisher
from arbiter.broker.relay import RelayPublisher


class Fanout:
    """`publisher` is the Scorer's sink; `start()`/`close()` follow the application's lifespan."""

    def __init__(self, platform: Platform, *, run_workers: bool | None = None) -> None:
        self.platform = platform
        self.embedded_broker = is_embedded(platform.settings.broker_url)
        self.run_workers = self.embedded_broker if run_workers is None else run_workers
        self.publisher: Publisher | RelayPublisher = make_publisher(platform.settings, platform.broker)
        self.enabled = platform.settings.publish
        self.workers: Any = None

    @property
    def sink(self) -> Publisher | RelayPublisher | None:
        """What the Scorer hands results to; None when publishing is switched off (ARBITER_PUBLISH=false)."""
        return self.publisher if self.enabled else None

    def start(self) -> None:
        if not self.enabled:
            return
        if self.run_workers:
            self.workers = plugins.load("arbiter.embedded", "workers")(self.platform)
        self.publisher.start()

    def flush(self, timeout: float = 60.0) -> bool:
        """Wait until everything scored so far is on the broker and, with in-process workers, stored."""
        if not self.publisher.flush(timeout):
            return False
        return self.workers.drain(timeout) if self.workers is not None else True

    def close(self) -> None:
        if not self.enabled:
            return
        self.publisher.close()
        if self.workers is not None:
            self.workers.drain(10.0)
            self.workers.stop()

    def status(self) -> dict[str, Any]:
        self.publisher.update_gauges()
        state = "off (ARBITER_PUBLISH=false)" if not self.enabled else \
            "embedded (in-process)" if self.embedded_broker else self.publisher.state
        return {"state": state, "pending": self.publisher.pending, "spool_depth": self.publisher.spool.depth(),
                "workers": "in-process" if self.workers is not None else "separate (arbiter worker)"}
