"""`arbiter demo` (what `make demo` runs) end to end against the real Postgres: what it printed and
what it stored, in --no-serve mode; and, serving, its dashboard answering until Ctrl-C."""

import re
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from arbiter.bootstrap import Platform
from arbiter.cli.demo_run import java_runs
from arbiter.store import tables
from tests.helpers import ARBITER

pytestmark = pytest.mark.integration
# h2o-gbm joins when Java runs, as on the CI machine
CHALLENGERS = ("logreg", "hgb", "dbscan-outlier", *(("h2o-gbm",) if java_runs() else ()))
DETECTORS = ("card-applications", "card-transactions")


def test_demo_tells_the_whole_story(platform: Platform, cli_env: dict[str, str], tmp_path: Path) -> None:
    env = cli_env | {"ARBITER_GOVERNANCE": "four-eyes"}  # the demo runs with four eyes, as production does
    proc = subprocess.run([ARBITER, "demo", "--no-serve", "--rows", "4000", "--replay", "500", "--port", "0",
                           "--label-delay", "1", "--workdir", str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=900, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    cast = dict(re.findall(r"(demo-(scientist|reviewer|strategist|operator|viewer)-[\d-]+)", out)[::1])
    who = {part: name for name, part in cast.items()}
    assert set(who) == {"scientist", "reviewer", "strategist", "operator", "viewer"} and "governance four-eyes" in out
    for detector in DETECTORS:
        assert f"{detector}-rf.v1 -> champion (forced by {who['operator']}" in out
        assert f"reviewed after by {who['reviewer']}" in out
        for recipe in CHALLENGERS:
            assert f"{detector}-{recipe}.v1" in out
    assert "certified (sklearn)" in out  # dbscan-outlier, served from its KD-tree
    if "h2o-gbm" in CHALLENGERS:
        assert "Java found: h2o-gbm joins the challengers" in out
        assert all(re.search(rf"{d}-h2o-gbm\.v1 .* certified \(onnx\)", out) for d in DETECTORS), out
    n = len(CHALLENGERS)
    assert out.count("replayed 500 applications") == 2 and out.count("answers: 500 scored; errors: none") == 2
    assert out.count("labels: 500 posted 1 s after their answers") == 2 and "0 unknown to the platform" in out
    assert "recorded 1,000 decisions\n" in out
    coverage = out.split("shadow_coverage (per challenger):")[1].split("\n\n")[0]
    rows = [line.split() for line in coverage.splitlines() if line.strip().startswith("card-")]
    assert len(rows) == 2 * n and all(r[1:] == ["500", "500", "0", "0"] for r in rows), rows
    report = out.split("Champion against challengers")[1]
    for detector in DETECTORS:
        table = report.split(f"{detector}: champion {detector}-rf.v1")[1].split("\n\n")[0]
        lines = [line for line in table.splitlines() if line.startswith(f"{detector}-")]
        auc_columns = r"\s[01]\.\d{4}\s+[01]\.\d{4}\s+[+-][01]\.\d{4}$"
        assert len(lines) == n and all(re.search(auc_columns, line) for line in lines)
    assert re.search(r"dashboard: http://127\.0\.0\.1:\d+/dashboard", out)
    # one model walked through request and approval over the admin API, by two people
    walk = out.split("promotion of ")[1]
    promoted, status = re.match(r"(\S+) asked for by \S+: HTTP (\d+)", walk).groups()
    assert status == "202", walk  # the gates pass on the demo's evidence (sized for it, and printed)
    assert f"approved by {who['reviewer']} (the gates ran again): {promoted} is the champion" in walk

    with platform.sessions() as session:
        statuses = dict(session.execute(select(tables.Model.id, tables.Model.status)).all())
        decisions = session.scalar(select(func.count()).select_from(tables.Decision))
        outcomes = session.scalar(select(func.count()).select_from(tables.Outcome))
        shadow = dict(session.execute(select(tables.ShadowScore.model_id, func.count())
                                      .group_by(tables.ShadowScore.model_id)).all())
        trail = session.scalars(select(tables.Promotion)).all()
        maturity = session.scalar(select(tables.ViewSettings.label_maturity_days))
        with_reference = session.scalar(select(func.count(func.distinct(tables.ModelReferenceBin.model_id))))
        comparison = session.execute(text("SELECT count(*) FROM champion_challenger_comparison "
                                          "WHERE challenger_auc IS NOT NULL")).scalar()
        drift = session.execute(text("SELECT count(DISTINCT model_id) FROM model_drift")).scalar()
        audit = [tuple(r) for r in session.execute(text("SELECT actor, action FROM audit_events ORDER BY id"))]
    assert len(statuses) == 2 * (n + 1) and sorted(statuses.values()).count("shadow") == 2 * n - 1
    assert statuses[promoted] == "champion" and sorted(statuses.values()).count("champion") == 2
    assert decisions == outcomes == 1000 and len(shadow) == 2 * n and set(shadow.values()) == {500}
    assert [(p.forced, p.accepted, p.actor, p.reviewed_by) for p in trail[:2]] == [
        (True, True, who["operator"], who["reviewer"])] * 2
    assert (trail[2].status, trail[2].actor, trail[2].decided_by) == ("approved", who["strategist"], who["reviewer"])
    assert audit.count((who["scientist"], "model.registered")) == 2 * (n + 1)
    assert audit.count((who["reviewer"], "model.approved")) == 2 * (n + 1)
    assert audit.count((who["strategist"], "shadow.started")) == 2 * n
    assert (who["operator"], "settings.changed") in audit and (who["reviewer"], "promotion.approved") in audit
    assert maturity == 0 and with_reference == 2 * (n + 1) and comparison == 2 * n and drift == 2 * (n + 1)
    port = int(re.search(r"127\.0\.0\.1:(\d+)/dashboard", out).group(1))
    with pytest.raises(httpx.ConnectError):  # --no-serve: the gateway is gone
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_demo_keeps_serving_until_ctrl_c(platform: Platform, cli_env: dict[str, str], tmp_path: Path) -> None:
    proc = subprocess.Popen([ARBITER, "demo", "--rows", "2000", "--replay", "200", "--port", "0", "--no-h2o",
                             "--workdir", str(tmp_path)], env=cli_env | {"ARBITER_GOVERNANCE": "four-eyes"},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp_path)
    try:
        url, login = None, None
        for line in proc.stdout:  # type: ignore[union-attr]
            if line.startswith("dashboard: "):
                login = re.search(r"sign in as (\S+) with the password (\S+)", line).groups()
            if line.startswith("serving on "):
                url = line.split()[2]
                break
        assert url and login, "the demo never said it was serving, or how to sign in"
        assert httpx.get(f"{url}/dashboard", timeout=30).status_code == 401  # principals exist: sign in
        page = httpx.get(f"{url}/dashboard", timeout=30, auth=login)
        assert page.status_code == 200 and "card-transactions-dbscan-outlier.v1" in page.text
        scored = httpx.post(f"{url}/v1/detectors/card-transactions/score", timeout=10,
                            json={"data": {"Time": 1.0, "Amount": 12.5, **{f"V{i}": 0.0 for i in range(1, 29)}}})
        assert scored.status_code == 200 and scored.json()["model"]["name"].startswith("card-transactions-")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=2)
