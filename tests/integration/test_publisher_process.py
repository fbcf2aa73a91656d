"""The gateway's publisher process (`arbiter.broker.relay`) against the real RabbitMQ and Postgres:
whatever happens to that process, or to the gateway, every application lands exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import httpx
import pytest

from arbiter.broker.relay import RelayPublisher
from tests.e2e.gateway_process import GatewayProcess
from tests.helpers import wait_until
from tests.integration.shadow_rig import DETECTOR, ShadowRig, application_bundles, rabbit_url, rig
from tests.integration.test_shadow_path import _assert_exact

pytestmark = pytest.mark.integration
__all__ = ["application_bundles", "rabbit_url", "rig"]  # fixtures
N = 3000


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has exited: its parent has yet to reap it
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def _metric(client, name: str) -> float:  # type: ignore[no-untyped-def]
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exposed")


def test_a_publisher_process_killed_with_frames_in_hand_loses_nothing(rig: ShadowRig) -> None:
    publisher = rig.client.app.state.fanout.publisher
    assert isinstance(publisher, RelayPublisher)  # RabbitMQ: the publisher runs in a process of its own
    rig.start_worker()
    applications = rig.applications(N, "relay-kill")
    assert all(rig.score(a) == 200 for a in applications[:N // 3])
    first = publisher.child_pid
    assert first is not None and _alive(first)

    os.kill(first, signal.SIGSTOP)  # it takes nothing more: frames pile up unsettled in the gateway
    assert all(rig.score(a) == 200 for a in applications[N // 3:2 * N // 3])
    time.sleep(0.2)  # the relay frames and sends them; the stopped child settles none
    assert publisher.pending >= N // 3  # every call since the stop is in hand when it dies
    os.kill(first, signal.SIGKILL)
    assert wait_until(lambda: publisher.child_pid not in (None, first), 30), "no new publisher process"

    assert all(rig.score(a) == 200 for a in applications[2 * N // 3:])  # the gateway never stopped answering
    assert rig.client.app.state.fanout.flush(60)
    _assert_exact(rig, rig.wait_for(N), N)  # resent from the gateway: at least once, stored once
    assert _metric(rig.client, "arbiter_publish_dropped_total") == 0
    assert _metric(rig.client, "arbiter_publish_lost_total") == 0
    assert _metric(rig.client, "arbiter_messages_published_total") > 0  # the child's counters, mirrored


def test_the_publisher_process_never_outlives_its_gateway(rig: ShadowRig) -> None:
    with GatewayProcess(rig.env) as gateway:
        url = f"{gateway.url}/v1/detectors/{DETECTOR}/score"
        for application in rig.applications(50, "orphan"):
            assert httpx.post(url, json=application, timeout=10).status_code == 200
        assert wait_until(lambda: len(_children(gateway.proc.pid)) == 1, 30)
        [child] = _children(gateway.proc.pid)
        gateway.proc.kill()  # SIGKILL: the gateway cannot close anything
        gateway.proc.wait()
        assert wait_until(lambda: not _alive(child), 30), "the publisher process outlived its gateway"


def test_ctrl_c_on_the_process_group_publishes_everything_before_it_stops(rig: ShadowRig) -> None:
    gateway = GatewayProcess(rig.env, own_group=True)
    with gateway:
        url = f"{gateway.url}/v1/detectors/{DETECTOR}/score"
        with httpx.Client(timeout=10) as http:
            assert all(http.post(url, json=a).status_code == 200 for a in rig.applications(1000, "ctrl-c"))
        [child] = _children(gateway.proc.pid)
        os.killpg(gateway.proc.pid, signal.SIGINT)  # the terminal's Ctrl-C: the gateway and its publisher
        assert gateway.proc.wait(timeout=60) == 0
        assert wait_until(lambda: not _alive(child), 30)
    rig.start_worker()
    _assert_exact(rig, rig.wait_for(1000), 1000)
