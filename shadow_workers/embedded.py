"""The embedded mode: the workers as a thread inside the gateway's (or the demo's) process.

Used with `ARBITER_BROKER_URL=memory://`, where the broker lives in the process too. The
gateway finds `start` through the `arbiter.embedded` entry point (arbiter never imports this
package).
"""

from __future__ import annotations

import threading
import time

from arbiter.bootstrap import Platform
from arbiter.broker.transport import BrokerUnavailable
from shadow_workers.selection import Selection
from shadow_workers.worker import Worker, WorkerOptions


class EmbeddedWorkers:
    """One worker thread consuming every queue; `drain()` waits until the in-process queues are empty."""

    def __init__(self, platform: Platform, refresh_interval: float = 0.5) -> None:
        self.worker = Worker(platform, Selection(), WorkerOptions.from_settings(platform,
                                                                                 refresh_interval=refresh_interval))
        self.broker = platform.broker
        self._thread = threading.Thread(target=self.worker.run, name="embedded-worker", daemon=True)

    def start(self) -> EmbeddedWorkers:
        self._thread.start()
        self.worker.connected.wait(timeout=10)
        return self

    def drain(self, timeout: float = 30.0) -> bool:
        """True once every consumed queue is empty and no batch is in hand."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._idle():
                time.sleep(0.05)  # a batch may have been taken between the two looks
                if self._idle():
                    return True
            time.sleep(0.02)
        return False

    def _idle(self) -> bool:
        if self.worker.busy:
            return False
        try:
            connection = self.broker.connect(timeout=3.0)  # our own: the worker's is not thread-safe
        except BrokerUnavailable:
            return False
        try:
            return all(connection.depth(queue) == 0 for queue in self.worker.queues)
        except BrokerUnavailable:
            return False
        finally:
            connection.close()

    def stop(self, timeout: float = 10.0) -> None:
        self.worker.stop()
        self._thread.join(timeout=timeout)


def start(platform: Platform) -> EmbeddedWorkers:
    """Entry point `arbiter.embedded:workers`."""
    return EmbeddedWorkers(platform).start()
