"""The gateway's publisher for RabbitMQ: publishing runs in a child process, off the gateway's GIL.

A gateway process is bound by its one GIL. With the publisher as a thread, pika's framing, the
codec and AES-GCM ran under that GIL, and each hand-off between the thread and the event loop
cost a switch: publishing took about a fifth of the gateway's throughput
(bench/gateway_throughput.py, the "publisher thread" variant). Here a scoring call only appends
`(detector, records, results, time)` to a deque. A small thread gathers ~10 ms of them, pickles
them into a frame and sends it over a Unix socket to `python -m arbiter.broker.relay_process`,
which runs the ordinary `Publisher` (confirms, durable spool, replay) with a CPU of its own.

Nothing is lost when that process dies: the gateway keeps every frame until the process reports
it settled (confirmed by the broker or fsynced to the spool), starts a new process and sends it
every frame still unsettled (at least once; consumers store idempotently). A process that keeps
dying is restarted with backoff; meanwhile frames wait in memory up to `capacity` scoring calls,
and beyond that are dropped and counted (`arbiter_publish_dropped_total`), as with the thread.
The process exits once the gateway closes the socket or dies, after publishing or spooling
everything it received; it ignores the terminal's and the process manager's SIGINT and SIGTERM.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from arbiter.broker import publisher as publishing
from arbiter.broker.relay_wire import OversizedRecord, RelayConfig, Status, frame, pack, socket_frame_limit, socket_pair
from arbiter.broker.spool import Spool

log = logging.getLogger(__name__)
LINGER = 0.01  # gather this long before framing: one frame (and one wake-up) per ~10 ms of traffic
IDLE_TICK = 0.5  # how often an idle relay thread looks at its child and at the status reports
RESPAWN_BACKOFF = (0.2, 10.0)
STABLE_AFTER = 5.0  # a child that lived this long resets the respawn backoff
COUNTERS = {"published": publishing.PUBLISHED, "spooled": publishing.SPOOLED, "dropped": publishing.DROPPED,
            "lost": publishing.LOST}


@dataclass
class _Marker:
    """Placed in the deque by `flush`: set once every frame made before it is settled."""

    done: threading.Event = field(default_factory=threading.Event)
    seq: int = -1


@dataclass
class _Child:
    process: subprocess.Popen
    sock: socket.socket
    started: float
    seen: dict[str, float] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0.0))


class RelayPublisher:
    """The Scorer's sink when publishing to RabbitMQ; same interface as `Publisher`."""

    def __init__(self, config: RelayConfig, spool: Spool) -> None:
        # the frames this gateway packs and the child receives share one limit, fixed before the first frame
        self.config = dataclasses.replace(config, max_frame=socket_frame_limit())
        self.spool = spool  # written by the child; read here for its depth
        self.capacity = config.capacity
        self.state = "starting"
        self._buffer: deque[Any] = deque()
        self._wake, self._stop = threading.Event(), threading.Event()
        self._idle = False
        self._thread = threading.Thread(target=self._run, name="publisher-relay", daemon=True)
        self._frames: deque[tuple[int, int, bytes]] = deque()  # (seq, items, frame) until settled
        self._unsettled = 0  # items in those frames
        self._seq = itertools.count(1)
        self._last_seq = self._acked = self._sent = 0
        self._markers: list[_Marker] = []
        self._child: _Child | None = None
        self._next_spawn, self._backoff = 0.0, RESPAWN_BACKOFF[0]
        self._close_timeout = 10.0

    # -- the request side (any thread) ---------------------------------------------------------
    def __call__(self, detector: str, records: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
        if len(self._buffer) + self._unsettled >= self.capacity:
            publishing.count_dropped(len(results))
            return
        self._buffer.append((detector, records, results, time.time()))
        if self._idle:  # only an idle relay thread needs waking; a busy one comes back every LINGER
            self._wake.set()

    @property
    def pending(self) -> int:
        """Scoring calls not yet settled by the publisher process."""
        return len(self._buffer) + self._unsettled

    @property
    def child_pid(self) -> int | None:
        return self._child.process.pid if self._child is not None else None

    def update_gauges(self) -> None:
        publishing.SPOOL_DEPTH.set(self.spool.depth())
        publishing.PENDING.set(self.pending)

    def start(self) -> None:
        self._thread.start()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far is confirmed by the broker or spooled."""
        if not self._thread.is_alive():
            return not self._buffer and not self._frames
        marker = _Marker()
        self._buffer.append(marker)
        self._wake.set()  # an idle thread comes at once; a busy one within LINGER
        return marker.done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Hand everything to the publisher process, let it publish or spool it, and wait for it to exit."""
        self._close_timeout = timeout
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout + 35.0)

    # -- the relay thread -----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            if self._frames or self._markers:
                self._stop.wait(LINGER)  # busy: each tick gathers ~10 ms of scoring calls into one frame
            else:
                self._idle = True  # before looking at the buffer: an append after the look wakes us
                if not self._buffer:
                    self._wake.wait(IDLE_TICK)
                self._idle = False
                self._wake.clear()
                self._stop.wait(LINGER)
            stopping = self._stop.is_set()
            try:
                self._make_frames()
                self._supervise()
                self._send()
                self._receive()
            except Exception:  # a bug here must not silently stop publishing for the process's lifetime
                log.exception("publisher relay tick failed")
            if stopping:
                break
        self._shut_down(self._close_timeout)

    def _make_frames(self) -> None:
        batch: list[tuple[str, list, list, float]] = []
        while self._buffer:
            item = self._buffer.popleft()
            if isinstance(item, _Marker):
                self._frame(batch)
                batch = []
                item.seq = self._last_seq
                self._markers.append(item)
            else:
                batch.append(item)
        self._frame(batch)
        self._settle_markers()

    def _frame(self, items: list[tuple[str, list, list, float]]) -> None:
        if not items:
            return
        try:
            pieces = pack(items, self.config.max_frame)
        except OversizedRecord:  # one record over the limit: find it, keep the rest
            pieces = []
            for item in items:
                try:
                    pieces += pack([item], self.config.max_frame)
                except OversizedRecord as exc:
                    publishing.LOST.inc(len(item[2]))
                    log.error("%d applications not published: %s", len(item[2]), exc)
        for count, payload in pieces:
            self._last_seq = next(self._seq)
            self._frames.append((self._last_seq, count, frame(self._last_seq, payload)))
            self._unsettled += count

    def _send(self) -> None:
        child = self._child
        if child is None:
            return
        for seq, _, data in itertools.islice(self._frames, self._sent - self._acked, None):
            try:
                child.sock.send(data)
            except OSError:  # its buffer is full (the rest waits for the next tick), or it is gone (_supervise)
                return
            self._sent = seq

    def _receive(self) -> None:
        child = self._child
        if child is None:
            return
        status = None
        while True:
            try:
                data = child.sock.recv(65536)
            except OSError:  # BlockingIOError included: nothing more to read
                break
            if not data:
                break
            status = Status.from_json(data)
            self._account(child, status)
        if status is not None:
            self.state = status.state
            publishing.BROKER_UP.set(status.broker_connected)

    def _account(self, child: _Child, status: Status) -> None:
        for name, counter in COUNTERS.items():  # mirror the child's counters into this process's metrics
            value = getattr(status, name)
            if value > child.seen[name]:
                counter.inc(value - child.seen[name])
                child.seen[name] = value
        while self._frames and self._frames[0][0] <= status.acked:
            _, count, _ = self._frames.popleft()
            self._unsettled -= count
        self._acked = max(self._acked, status.acked)
        self._sent = max(self._sent, self._acked)
        self._settle_markers()

    def _settle_markers(self) -> None:
        settled = self._frames[0][0] - 1 if self._frames else self._last_seq
        for marker in [m for m in self._markers if m.seq <= settled]:
            marker.done.set()
            self._markers.remove(marker)

    # -- the child ------------------------------------------------------------------------------
    def _supervise(self) -> None:
        child = self._child
        if child is not None and child.process.poll() is None:
            return
        now = time.monotonic()
        if child is not None:
            self._receive()  # what it said before it went
            child.sock.close()
            self._child = None
            lived = now - child.started
            self._backoff = RESPAWN_BACKOFF[0] if lived > STABLE_AFTER else min(self._backoff * 2, RESPAWN_BACKOFF[1])
            self._next_spawn = now + self._backoff
            self.state = f"publisher process exited ({child.process.returncode}); restarting"
            log.warning("publisher process exited with %s; %d frames to send again", child.process.returncode,
                        len(self._frames))
        if now >= self._next_spawn:
            self._spawn()

    def _spawn(self) -> None:
        ours, theirs = socket_pair()
        try:
            env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}  # we mirror its counters
            process = subprocess.Popen([sys.executable, "-m", "arbiter.broker.relay_process", str(theirs.fileno())],
                                       stdin=subprocess.PIPE, pass_fds=(theirs.fileno(),), env=env)
            try:
                assert process.stdin is not None
                process.stdin.write(self.config.to_json())
                process.stdin.close()
            except BrokenPipeError:
                pass  # it died at once; _supervise sees it exit
        except OSError as exc:
            ours.close()
            self._next_spawn = time.monotonic() + self._backoff
            self.state = f"cannot start the publisher process: {exc}"
            log.error("cannot start the publisher process: %s", exc)
            return
        finally:
            theirs.close()
        ours.setblocking(False)
        self._child = _Child(process, ours, time.monotonic())
        self._sent = self._acked  # a new child gets every unsettled frame, in order
        self.state = "publisher process starting"

    def _shut_down(self, timeout: float) -> None:
        """Send what is left, close our end (the child publishes or spools it all, then exits), wait for it."""
        deadline = time.monotonic() + timeout
        while self._sent < self._last_seq and time.monotonic() < deadline:
            self._supervise()  # a child that dies now is replaced: the frames still go somewhere
            self._send()
            self._receive()
            time.sleep(LINGER)
        child, self._child = self._child, None
        if child is not None:
            child.sock.shutdown(socket.SHUT_WR)
            try:
                child.process.wait(timeout=max(1.0, deadline - time.monotonic()) + 30.0)
            except subprocess.TimeoutExpired:
                log.error("publisher process did not stop; killing it")
                child.process.kill()
                child.process.wait()
            self._account_final(child)
            child.sock.close()
        # what is left was never handed over, or was handed to a child that failed
        handed_over = self._sent if child is not None and child.process.returncode == 0 else self._acked
        lost = sum(count for seq, count, _ in self._frames if seq > handed_over)
        if lost:
            publishing.LOST.inc(lost)
            log.error("publisher stopped with %d scoring calls neither published nor spooled", lost)
        self._frames.clear()
        self._unsettled = 0
        for marker in self._markers:
            marker.done.set()

    def _account_final(self, child: _Child) -> None:
        with contextlib.suppress(OSError):  # BlockingIOError included: nothing more to read
            while data := child.sock.recv(65536):
                self._account(child, Status.from_json(data))
