"""The processes `arbiter demo` runs: the gateway (`arbiter serve`) and, with RabbitMQ, `arbiter worker`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

_ARBITER = [sys.executable, "-c", "from arbiter.cli import main; main()"]


def pick_port(wanted: int) -> int:
    """`wanted` if it is free on 127.0.0.1 (0: any free port), else a free one."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", wanted))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, processes: dict[str, subprocess.Popen], timeout: float) -> bool:
    """Poll `url` until it answers 200 (True) or `timeout` seconds pass (False). RuntimeError
    (naming the process) as soon as one of `processes` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in processes.items():
            if proc.poll() is not None:
                raise RuntimeError(f"the {name} exited early")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    return False


@dataclass
class DemoServices:
    """The gateway, and the shadow workers when they run in their own process; logs in `log_dir`."""

    port: int
    log_dir: Path
    separate_workers: bool
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._spawn("gateway", "serve", "--port", str(self.port))
        if self.separate_workers:
            self._spawn("worker", "worker")
        try:
            if wait_for_http(f"{self.url}/readyz", self.processes, timeout):
                return
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; see {self.log_dir}") from None
        raise RuntimeError(f"the gateway was not ready within {timeout:.0f} s; see {self.log_dir / 'gateway.log'}")

    def _spawn(self, name: str, *args: str) -> None:
        log = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen([*_ARBITER, *args], stdout=log, stderr=subprocess.STDOUT,
                                                env=dict(os.environ), start_new_session=True)

    def wait(self) -> None:
        """Until a process exits (or Ctrl-C, which the caller handles by calling `stop`)."""
        while all(p.poll() is None for p in self.processes.values()):
            time.sleep(0.5)

    def stop(self) -> None:
        """SIGTERM (the gateway publishes or spools what it holds, a worker finishes its batch), then wait."""
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
