"""`python -m arbiter.broker.relay_process FD`: a gateway process's publisher, in a process of its own.

Started by `RelayPublisher` with one end of a SOCK_SEQPACKET pair as file descriptor FD and its
`RelayConfig` on stdin. It runs the ordinary `Publisher` (confirms, durable spool, replay) on the
frames it receives, and reports back which frames are settled (see `relay_wire`). It ignores
SIGINT and SIGTERM, which a terminal or a process manager sends to the whole group: it stops when
the gateway closes the socket (or dies), after publishing or spooling everything it received.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import sys
import threading
from collections import deque

from prometheus_client import Counter

from arbiter import logs
from arbiter.broker import publisher as publishing
from arbiter.broker.codec import MessageCodec
from arbiter.broker.factory import make_broker
from arbiter.broker.relay_wire import SEQ, RelayConfig, Status, unframe
from arbiter.broker.spool import Spool

log = logging.getLogger("arbiter.broker.relay")
REPORT_INTERVAL = 0.5  # seconds between status reports when nothing settles


def _total(counter: Counter) -> float:
    return next(s.value for s in counter.collect()[0].samples if s.name.endswith("_total"))


class Acknowledger:
    """Tracks which frames are settled and reports it. `expect` (reader thread) registers a frame before its
    items are submitted; `settled` (publisher thread) consumes items in submission order."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()
        self._frames: deque[list[int]] = deque()  # [seq, items not yet settled]
        self._acked = 0
        self.publisher: publishing.Publisher | None = None

    def expect(self, seq: int, items: int) -> None:
        with self._lock:
            self._frames.append([seq, items])
            self._pop_settled()

    def settled(self, items: int) -> None:
        with self._lock:
            while items and self._frames:
                taken = min(items, self._frames[0][1])
                self._frames[0][1] -= taken
                items -= taken
                self._pop_settled()
        self.report()

    def _pop_settled(self) -> None:
        while self._frames and self._frames[0][1] == 0:
            self._acked = self._frames.popleft()[0]

    def report(self) -> None:
        """Send the status; a full socket buffer drops it (the next one says as much, acks are cumulative)."""
        publisher = self.publisher
        status = Status(acked=self._acked, state=publisher.state if publisher else "starting",
                        pending=publisher.pending if publisher else 0,
                        broker_connected=int(publisher is not None and publisher.state == "connected"),
                        published=_total(publishing.PUBLISHED), spooled=_total(publishing.SPOOLED),
                        dropped=_total(publishing.DROPPED), lost=_total(publishing.LOST))
        with contextlib.suppress(OSError):  # BlockingIOError included
            self._sock.send(status.to_json())


def serve(sock: socket.socket, config: RelayConfig) -> None:
    """Receive frames until the gateway closes the socket, then publish or spool what is left."""
    reports = sock.dup()
    reports.setblocking(False)
    acknowledger = Acknowledger(reports)
    publisher = publishing.Publisher(make_broker(config.broker_url), Spool(config.spool_path),
                                     MessageCodec(config.message_key), capacity=config.capacity,
                                     on_settled=acknowledger.settled)
    acknowledger.publisher = publisher
    publisher.start()
    sock.settimeout(REPORT_INTERVAL)
    try:
        while True:
            try:
                data = sock.recv(config.max_frame + 64)
            except TimeoutError:
                acknowledger.report()
                continue
            except ConnectionResetError:
                break
            if not data:
                break  # the gateway closed its end, or died
            try:
                seq, items = unframe(data)
            except Exception:  # never expected (the gateway wrote it); settle it rather than die on it forever
                log.exception("publisher process: unreadable frame of %d bytes dropped", len(data))
                publishing.LOST.inc()
                acknowledger.expect(SEQ.unpack_from(data)[0] if len(data) >= SEQ.size else 0, 0)
                continue
            acknowledger.expect(seq, len(items))
            for item in items:
                publisher.submit(item, block=True)
    finally:
        publisher.close(timeout=30.0)
        acknowledger.report()
        log.info("publisher process stopped", extra={"state": publisher.state})


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logs.configure()
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m arbiter.broker.relay_process FD  (started by the gateway)", file=sys.stderr)
        return 2
    config = RelayConfig.from_json(sys.stdin.buffer.read())
    serve(socket.socket(fileno=int(argv[1])), config)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
