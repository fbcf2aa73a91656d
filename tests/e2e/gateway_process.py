"""Running `arbiter serve` as a real process for end-to-end tests."""

from __future__ import annotations

import subprocess

from arbiter.cli.demo_services import pick_port, wait_for_http
from tests.helpers import ARBITER


def free_port() -> int:
    return pick_port(0)


class GatewayProcess:
    """`arbiter serve` on a free loopback port; stopped (and reaped) on exit."""

    def __init__(self, env: dict[str, str], workers: int = 1, *, own_group: bool = False) -> None:
        """`own_group`: a process group of its own, so a test can signal it as a terminal's Ctrl-C would."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([ARBITER, "serve", "--port", str(self.port), "--workers", str(workers)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     start_new_session=own_group)

    def wait_until_up(self, timeout: float = 60.0) -> None:
        try:
            if wait_for_http(f"{self.url}/healthz", {"gateway": self.proc}, timeout):
                return
        except RuntimeError:
            raise RuntimeError(f"gateway exited: {self.proc.stderr.read()[-2000:]}") from None
        raise TimeoutError("gateway did not start")

    def __enter__(self) -> GatewayProcess:
        self.wait_until_up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
