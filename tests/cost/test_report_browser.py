"""The HTML report as a browser shows it: headless Chromium loads file://…/iagent-report.html
written against the sandbox (with right-sizing), its DOM has the cost chart with a bar per
namespace and series and the totals line, and the screenshot shows the bars' colours."""

from __future__ import annotations

import json
from collections import Counter
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from iagent_tui.commands.report import report_command
from tests.browser import chromium, dump_dom, screenshot

from .png import pixels

pytestmark = pytest.mark.scenario("pre-migration")
BAR_COLOURS = {"before": (0x88, 0x88, 0x88), "after": (0x33, 0xAA, 0x77), "after right-sized": (0x22, 0x77, 0xCC)}


class Chart(HTMLParser):
    def __init__(self):
        super().__init__()
        self.charts: list[dict] = []
        self.bars: list[dict] = []
        self.totals = ""
        self._in_totals = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg" and attrs.get("data-chart"):
            self.charts.append(attrs)
        if tag == "rect" and attrs.get("class") == "bar":
            self.bars.append(attrs)
        self._in_totals = tag == "p" and attrs.get("class") == "totals"

    def handle_data(self, data):
        if self._in_totals:
            self.totals += data

    def handle_endtag(self, tag):
        if tag == "p":
            self._in_totals = False


@pytest.fixture(autouse=True)
def _no_stray_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_html_report_opens_in_chromium_and_shows_its_charts(sandbox_env, tmp_path):
    chromium()  # skip (fail under CI) with how to install it, before any work
    out = tmp_path / "r"
    env = {**sandbox_env, "IAGENT_RIGHTSIZING__SAMPLE_SECONDS": "0.02"}  # the sandbox runs 200x here
    result = CliRunner().invoke(report_command, ["--out", str(out), "--usage-window", "1m"], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "iagent-report.json").read_text())
    assert doc["cost"]["fargate_rightsized_monthly_usd"] is not None
    url = (out / "iagent-report.html").resolve().as_uri()

    chart = Chart()
    chart.feed(dump_dom(url))
    assert [c["data-chart"] for c in chart.charts] == ["cost-by-namespace"]
    namespaces = list(doc["cost"]["by_namespace"])
    shown = Counter((b["data-namespace"], b["data-series"]) for b in chart.bars)
    assert shown == Counter((ns, s) for ns in namespaces for s in BAR_COLOURS)
    # A bar's length is its share of the largest figure: the largest is drawn at full length.
    widths = {(b["data-namespace"], b["data-series"]): float(b["width"]) for b in chart.bars}
    assert max(widths.values()) == pytest.approx(420, abs=0.1) and widths[("prod", "before")] > 0
    cost = doc["cost"]
    assert f"before ${cost['before_monthly_usd']:,.2f}" in chart.totals
    assert f"right-sized after ${cost['after_rightsized_monthly_usd']:,.2f}" in chart.totals

    png = screenshot(url, tmp_path / "report.png", size="1280,1600")
    width, height, rgb = pixels(png)
    assert (width, height) == (1280, 1600)
    colours = Counter(rgb)
    white = colours[(255, 255, 255)]
    assert white < len(rgb) * 0.99, "the page is blank"
    for series, colour in BAR_COLOURS.items():
        assert colours[colour] > 200, f"no {series} bars on the screenshot"
