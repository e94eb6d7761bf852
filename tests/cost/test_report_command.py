"""`iagent-tui report`: Markdown, JSON and a self-contained HTML page with the same figures as
`status --json`; --since shows what changed; bad input is one line and exit 2."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest
from click.testing import CliRunner

from iagent_tui.commands.report import report_command

from .checks import status_doc

pytestmark = pytest.mark.scenario("pre-migration")


@pytest.fixture(autouse=True)
def _no_stray_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def run_report(args, env):
    result = CliRunner().invoke(report_command, args, env=env, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.urls += [v for k, v in attrs if k in ("src", "href", "xlink:href", "action") and v]


def test_report_files_agree_with_status_and_fetch_nothing(sandbox_env, tmp_path):
    out = tmp_path / "r"
    result = run_report(["--out", str(out)], sandbox_env)
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "iagent-report.json").read_text())
    status = status_doc(sandbox_env)
    for key in ("ec2_monthly_usd", "fargate_projected_monthly_usd", "ec2_remaining_monthly_usd", "savings_percent"):
        assert doc["cost"][key] == status["cost"][key]
    assert {b["object"] for b in doc["blockers"]} >= {"Pod/prod/netdebug", "StatefulSet/prod/iagent-vectordb"}
    assert [s["namespace"] for s in doc["start_times"]] == sorted({p["namespace"] for p in status["pods"]})
    assert all(s["target_seconds"] == 120 for s in doc["start_times"])

    md = (out / "iagent-report.md").read_text()
    total = f"| total | ${doc['cost']['ec2_monthly_usd']:,.2f} |"
    assert total in md and "## Blockers" in md and "## Start times" in md and "730 hours per month" in md

    html = (out / "iagent-report.html").read_text()
    links = Links()
    links.feed(html)
    assert "svg" in links.tags and "script" not in links.tags and "link" not in links.tags
    external = [u for u in links.urls if urlparse(u).scheme in ("http", "https") or u.startswith("//")]
    assert external == []
    assert total.split("|")[2].strip() in html and "(unallocated)" in html


def test_since_shows_what_changed(sandbox_env, tmp_path):
    first = tmp_path / "a"
    assert run_report(["--out", str(first)], sandbox_env).exit_code == 0
    previous = json.loads((first / "iagent-report.json").read_text())
    previous["cost"]["ec2_monthly_usd"] += 10
    previous["blockers"].append({"code": "FG001", "object": "Pod/prod/gone"})
    (first / "old.json").write_text(json.dumps(previous))
    second = tmp_path / "b"
    assert run_report(["--out", str(second), "--since", str(first / "old.json")], sandbox_env).exit_code == 0
    since = json.loads((second / "iagent-report.json").read_text())["since"]
    assert since["cost"]["ec2_monthly_usd"] == -10 and since["blockers_resolved"] == ["FG001 Pod/prod/gone"]
    assert "Changes since" in (second / "iagent-report.md").read_text()


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"report_version": 99}'])
def test_bad_since_file_is_one_line_and_exit_2(sandbox_env, tmp_path, content):
    bad = tmp_path / "old.json"
    bad.write_text(content)
    result = run_report(["--out", str(tmp_path / "r"), "--since", str(bad)], sandbox_env)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert result.output.startswith("iagent-tui report:") and not (tmp_path / "r").exists()


def test_missing_since_file(sandbox_env, tmp_path):
    result = run_report(["--since", str(tmp_path / "nope.json")], sandbox_env)
    assert result.exit_code == 2 and "cannot read --since file" in result.output


def test_html_escapes_what_comes_from_the_cluster():
    from iagent_tui.report_html import bar_chart

    svg = bar_chart([("<script>x</script>", 2.0, 1.0)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
