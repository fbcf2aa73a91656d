"""`arbiter report` against the real Postgres, run as a user runs it."""

import json

import pytest
from sklearn.metrics import roc_auc_score

from arbiter.bootstrap import Platform
from arbiter.insights.evidence import rebuild
from tests.helpers import assert_one_line_error, run
from tests.integration.strategist_data import seed_champion_and_challengers

pytestmark = pytest.mark.integration


def test_report_without_data_exits_non_zero_with_one_line(cli_env: dict[str, str]) -> None:
    assert_one_line_error(run(cli_env, "report"), "no data to report")
    assert_one_line_error(run(cli_env, "report", "--since", "last tuesday"), "--since", "7d")
    assert_one_line_error(run(cli_env, "report", "--detector", "nope"), "nope")


def test_report_pairs_the_champion_with_each_challenger(platform: Platform, cli_env: dict[str, str]) -> None:
    with platform.engine.begin() as conn:
        seeded = seed_champion_and_challengers(conn)
    rebuild(platform)  # rows written by hand: `arbiter evidence rebuild` counts them
    proc = run(cli_env, "report", "--json")
    assert proc.returncode == 0, proc.stderr
    [entry] = json.loads(proc.stdout)
    rows = {r["challenger_id"]: r for r in entry["challengers"]}
    good = roc_auc_score(seeded.labels, seeded.challengers["m-good"])
    champ = roc_auc_score(seeded.labels, seeded.champion)
    assert rows["m-good"]["paired"] == 400 and rows["m-good"]["challenger_auc"] == pytest.approx(good, abs=1e-9)
    assert rows["m-good"]["champion_auc"] == pytest.approx(champ, abs=1e-9)

    proc = run(cli_env, "report", "--detector", "card-transactions")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "champion m-champ (rf): 400 decided" in out and "400 labelled" in out
    good_line = next(line for line in out.splitlines() if line.startswith("m-good"))
    r = rows["m-good"]
    for figure in (f"{r['challenger_auc']:.4f}", f"{r['champion_auc']:.4f}", f"{r['auc_delta']:+.4f}",
                   f"{100 * r['agreement_rate']:.1f}%"):
        assert figure in good_line, (figure, good_line)
    assert out.index("m-good") < out.index("m-weak")  # best delta first

    # the seeded applications span three days from 2026-01-10; the last day holds a third of them
    proc = run(cli_env, "report", "--json", "--since", "2026-01-12")
    [entry] = json.loads(proc.stdout)
    last_day = [i for i, d in enumerate(seeded.days) if d.day == 12]
    rows = {r["challenger_id"]: r for r in entry["challengers"]}
    assert rows["m-good"]["paired"] == len(last_day) == entry["champion"]["decided"]
    assert rows["m-weak"]["challenger_auc"] == pytest.approx(
        roc_auc_score([seeded.labels[i] for i in last_day], [seeded.challengers["m-weak"][i] for i in last_day]),
        abs=1e-9)
    assert_one_line_error(run(cli_env, "report", "--since", "1d"), "no data to report")


def test_report_by_segment(platform: Platform, cli_env: dict[str, str]) -> None:
    """Applications written by hand carry no derived segments: their stored amount still gives a band."""
    with platform.engine.begin() as conn:
        seeded = seed_champion_and_challengers(conn)
    rebuild(platform)
    proc = run(cli_env, "report", "--by", "amount_band", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["model_id"]: r for r in json.loads(proc.stdout)}
    assert {r["segment"] for r in rows.values()} == {"0-100"}  # every seeded amount is 50
    champion = rows["m-champ"]
    declined = [s >= 0.8 for s in seeded.champion]
    caught = sum(d and y for d, y in zip(declined, seeded.labels, strict=True))
    assert champion["applications"] == 400 and champion["frauds"] == sum(seeded.labels)
    assert champion["decline_rate"] == pytest.approx(sum(declined) / 400)
    assert champion["recall"] == pytest.approx(caught / sum(seeded.labels))
    text = run(cli_env, "report", "--by", "amount_band").stdout
    assert "Performance by amount_band" in text and "m-weak" in text
    assert_one_line_error(run(cli_env, "report", "--by", "region"), "no data to report", "by region")
    assert_one_line_error(run(cli_env, "report", "--by", "zip"), "zip")
