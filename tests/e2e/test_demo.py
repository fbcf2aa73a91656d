"""`arbiter demo` (what `make demo` runs) end to end against the real Postgres."""

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from arbiter.bootstrap import Platform
from arbiter.store import tables

pytestmark = pytest.mark.integration


def test_demo_trains_registers_promotes_and_serves(platform: Platform, cli_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    proc = subprocess.run([str(Path(sys.executable).with_name("arbiter")), "demo", "--rows", "4000",
                           "--workdir", str(tmp_path)], env=cli_env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for model in ("card-transactions-rf.v1", "card-transactions-isolation-forest.v1", "card-applications-hgb.v1"):
        assert model in out
    assert "card-transactions-rf.v1 -> champion" in out and "served card-applications-rf.v1" in out
    with platform.sessions() as session:
        statuses = dict(session.execute(select(tables.Model.id, tables.Model.status)).all())
        trail = session.scalars(select(tables.Promotion)).all()
    assert len(statuses) == 8
    assert statuses["card-transactions-rf.v1"] == statuses["card-applications-rf.v1"] == "champion"
    assert sorted(s for s in statuses.values() if s == "shadow") == ["shadow"] * 6  # three per detector
    # the held-out applications (800 per detector) went through the champion path and the shadow path
    with platform.sessions() as session:
        decisions = session.scalar(select(func.count()).select_from(tables.Decision))
        shadow = dict(session.execute(select(tables.ShadowScore.model_id, func.count())
                                      .group_by(tables.ShadowScore.model_id)).all())
    assert decisions == 1600 and len(shadow) == 6 and set(shadow.values()) == {800}, (decisions, shadow)
    table = out.split("shadow_coverage (per challenger):")[1].split("\n\n")[0]
    coverage = [line for line in table.splitlines() if line.strip().startswith("card-")]
    assert len(coverage) == 6 and all(line.split()[1:] == ["800", "800", "0", "0"] for line in coverage), coverage
    assert all(p.forced and p.accepted and p.actor == "demo" for p in trail) and len(trail) == 2
