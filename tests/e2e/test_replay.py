"""`arbiter replay` against a real gateway process and the real Postgres: time order, pacing,
delayed labels, errors counted and never fatal, one clear line when nothing can be done."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from arbiter.bootstrap import Platform
from arbiter.governance.promotion import promote
from arbiter.governance.registry import register_bundle
from arbiter.store import tables
from models.synth import synthesize
from tests.e2e.gateway_process import GatewayProcess, free_port
from tests.helpers import assert_one_line_error, run

pytestmark = pytest.mark.integration


def _champion(platform: Platform, bundle: Path) -> None:
    model_id = register_bundle(platform, bundle).model.id
    promote(platform, model_id, reason="replay test", actor="test", force=True)


def _wait_for(platform: Platform, table: type, count: int, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        with platform.sessions() as session:
            got = session.scalar(select(func.count()).select_from(table))
        if got >= count or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_replay_streams_in_time_order_and_labels_later(platform: Platform, cli_env: dict[str, str],
                                                       rf_bundle: Path, tmp_path: Path) -> None:
    _champion(platform, rf_bundle)
    frame = synthesize("card-transactions", 400, seed=21, fraud_rate=0.05)
    shuffled = frame.sample(frac=1.0, random_state=3)  # the file is out of order; the replay is not
    shuffled.loc[shuffled.index[:3], "V3"] = 1e6  # three rows the gateway must refuse (422), not crash on
    data = tmp_path / "tx.csv"
    shuffled.to_csv(data, index=False)
    with GatewayProcess(cli_env) as gateway:
        proc = run(cli_env, "replay", str(data), "--detector", "card-transactions", "--url", gateway.url,
                   "--concurrency", "1", "--rate", "150", "--label-delay", "1.5")
        assert proc.returncode == 0, proc.stderr
        assert "replayed 400 applications" in proc.stdout and "answers: 397 scored; errors: 422: 3" in proc.stdout
        assert re.search(r"latency ms: p50 [\d.]+\s+p95 [\d.]+\s+p99 [\d.]+", proc.stdout)
        assert "labels: 397 posted 1.5 s after their answers" in proc.stdout
        assert _wait_for(platform, tables.Decision, 397) == 397
    with platform.sessions() as session:
        received = session.execute(select(tables.Application.application_id, tables.Application.received_at)
                                   .order_by(tables.Application.received_at)).all()
        outcomes = {o.application_id: o for o in session.scalars(select(tables.Outcome))}
        decided = dict(session.execute(select(tables.Decision.application_id, tables.Decision.decided_at)).all())
    rows = [int(app_id.rsplit("-", 1)[1]) for app_id, _ in received]  # replay-<run>-<row of the file>
    times = shuffled["Time"].to_numpy()
    assert list(times[rows]) == sorted(times[rows])  # one at a time, in the order of Time
    assert set(outcomes) == set(decided) and len(outcomes) == 397
    labels = dict(zip(shuffled.reset_index(drop=True).index, shuffled["Class"], strict=True))
    assert all(outcomes[a].is_fraud == bool(labels[int(a.rsplit("-", 1)[1])]) for a in outcomes)
    assert min((outcomes[a].recorded_at - decided[a]).total_seconds() for a in outcomes) >= 1.4


def test_replay_keeps_the_files_pace_at_a_speed_factor(platform: Platform, cli_env: dict[str, str],
                                                        rf_bundle: Path, tmp_path: Path) -> None:
    _champion(platform, rf_bundle)
    frame = synthesize("card-transactions", 200, seed=5).sort_values("Time")
    frame["Time"] = (frame["Time"] - frame["Time"].min()) / (frame["Time"].max() - frame["Time"].min()) * 300
    data = tmp_path / "tx.csv"
    frame.drop(columns=["Class"]).to_csv(data, index=False)  # no labels in the file: none posted
    with GatewayProcess(cli_env) as gateway:
        proc = run(cli_env, "replay", str(data), "--detector", "card-transactions", "--url", gateway.url,
                   "--speed", "150")  # 300 s of data at 150x: its last row is due 2 s after the first
    assert proc.returncode == 0, proc.stderr
    elapsed = float(re.search(r"in ([\d.]+) s:", proc.stdout).group(1))
    assert elapsed >= 1.9 and "at 150x the file's pace" in proc.stdout
    assert "labels: 0 posted" in proc.stdout


def test_replay_errors_are_one_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "tx.csv"
    synthesize("card-transactions", 20, seed=1).to_csv(data, index=False)
    assert_one_line_error(run(cli_env, "replay", str(data), "--detector", "card-transactions", "--url",
                              f"http://127.0.0.1:{free_port()}"), "no application was scored", "ConnectError")
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"Time": [1, 2], "V1": [0.1, 0.2]}).to_csv(bad, index=False)
    assert_one_line_error(run(cli_env, "replay", str(bad), "--detector", "card-transactions"), "lacks the column")
    assert_one_line_error(run(cli_env, "replay", str(data), "--detector", "card-transactions", "--rate", "5",
                              "--speed", "2"), "--rate or --speed")
