"""`GET /dashboard` in headless Chromium (Debian's, driven by Playwright): with data every chart
draws and every table fills, the console stays free of errors, and nothing loads from outside."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from arbiter.bootstrap import Platform
from arbiter.domain.strategies import StrategyInput
from arbiter.governance.proposals import submit_strategy
from arbiter.governance.workbench import SimulationRequest, simulate_strategy
from arbiter.insights.evidence import rebuild
from tests.e2e.gateway_process import GatewayProcess
from tests.integration.strategist_data import seed_champion_and_challengers

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# without the background-networking flags Chromium reaches for Google's hosts, which this machine refuses
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("the dashboard test needs Chromium at /usr/bin/chromium: `make test` installs it "
                    "(apt-get install chromium)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageWatch:
    """A page, with every console error, page error and request it makes."""

    def __init__(self, browser: object) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready=true]", timeout=15_000)


CHART_STATE = """() => Array.from(document.querySelectorAll('canvas[data-chart]')).map((canvas) => {
  const chart = Chart.getChart(canvas);
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  return {id: canvas.id, type: chart ? chart.config.type : null, width: canvas.width,
          points: chart ? chart.data.datasets.reduce((n, d) => n + d.data.filter((v) => v !== null).length, 0) : 0,
          painted: painted};
})"""


def test_dashboard_draws_every_chart_offline(platform: Platform, cli_env: dict[str, str], browser: object,
                                             tmp_path: Path, four_eyes: Platform) -> None:
    with platform.engine.begin() as conn:
        seed_champion_and_challengers(conn)
    rebuild(platform)  # rows written by hand: the aggregates are recounted from them
    submit_strategy(four_eyes, "card-transactions", StrategyInput(review_threshold=0.3, decline_threshold=0.9,
                    note="tighter"), actor="sam-strategist")  # waits for a governance decision
    with GatewayProcess(cli_env) as gateway:
        watch = PageWatch(browser)
        watch.open(f"{gateway.url}/dashboard")
        watch.page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        charts = {c["id"].split("-")[0]: c for c in watch.page.evaluate(CHART_STATE)}
        text = watch.page.inner_text("main")

        assert set(charts) == {"roc", "hist", "auc", "rates", "coverage", "reasons"}, charts  # no simulator: 30 days
        for name, chart in charts.items():
            assert chart["points"] > 0 and chart["width"] > 0, name
            assert chart["painted"] > 1000, f"{name} drew nothing on its canvas"
        assert charts["roc"]["points"] >= 3 * 3  # a curve per model, plus the chance line
        assert "champion m-champ (rf): 400 decided" in text
        for expected in ("m-good", "m-weak", "first champion", "V14", "agreement", "Swap sets",
                         "champion approved, challenger declines", "recall at champion's decline rate",
                         "Waiting for a governance decision", "sam-strategist", "proposal.created", "Audit trail",
                         "Top reasons per model and day", "anonymised transaction component V14",
                         "Where challenger and champion disagree", "transaction amount ("):
            assert expected in text, expected
        assert watch.errors == []
        hosts = {urlparse(u).netloc for u in watch.requests if not u.startswith("data:")}
        assert hosts == {f"127.0.0.1:{gateway.port}"}

        # narrowed to one day, still drawing, and the filter shows it
        watch.open(f"{gateway.url}/dashboard?detector=card-transactions&since=2026-01-12")
        assert "since 2026-01-12" in watch.page.inner_text("header")
        assert all(c["points"] > 0 for c in watch.page.evaluate(CHART_STATE))
        assert watch.errors == []

        # the simulator: moving a slider changes the figures to what the simulation service computes
        watch.open(f"{gateway.url}/dashboard?detector=card-transactions&since=2026-01-01")
        figures = watch.page.locator("#sim-figures-d0")
        before = figures.inner_text()
        assert "in force" in before and "simulated" in before
        watch.page.evaluate("""() => { const s = document.getElementById('sim-decline-d0');
                                       s.value = '0.7'; s.dispatchEvent(new Event('input')); }""")
        after = figures.inner_text()
        assert after != before
        watch.page.locator("#sim-figures-d0").locator("xpath=..").screenshot(path=str(tmp_path / "simulator.png"))
        expected = simulate_strategy(platform, "card-transactions", SimulationRequest(
            review=0.5, decline=0.7, since="2026-01-01"), actor="test")["simulated"]
        simulated_row = next(line for line in after.splitlines() if line.startswith("simulated"))
        assert f"{100 * expected['decline_rate']:.1f}%" in simulated_row
        assert f"{expected['false_declines']:,}" in simulated_row.split("\t")
        assert f"{expected['expected_cost']:.0f}" in simulated_row
        curve = next(c for c in watch.page.evaluate(CHART_STATE) if c["id"] == "sim-curve-d0")
        assert curve["points"] > 40 and curve["painted"] > 1000
        assert watch.errors == []

        bad = httpx.get(f"{gateway.url}/dashboard", params={"since": "<script>", "detector": "nope"})
        assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"since", "detector"}
        assert httpx.get(f"{gateway.url}/dashboard/assets/..%2Fdata.py").status_code == 404
        data = httpx.get(f"{gateway.url}/dashboard/data.json").json()
        assert [d["detector"] for d in data["detectors"]] == ["card-transactions"]


def test_dashboard_with_nothing_recorded_says_so_without_errors(platform: Platform, cli_env: dict[str, str],
                                                               browser: object) -> None:
    with GatewayProcess(cli_env) as gateway:
        watch = PageWatch(browser)
        watch.open(f"{gateway.url}/dashboard")
        assert "Nothing recorded yet" in watch.page.inner_text("main")
        assert watch.errors == [] and watch.page.evaluate(CHART_STATE) == []
