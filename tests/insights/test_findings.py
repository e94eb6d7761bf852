"""One code table (codes.py) for every finding: the checks' catalogue agrees with it, the
documented table is generated from it, and messages fill completely."""

import string
from pathlib import Path

from iagent_tui.insights.codes import CODES, RETIRED, markdown_table
from iagent_tui.insights.findings import CHECKS

REPO = Path(__file__).resolve().parents[2]


def test_catalogue_severities_match_the_code_table():
    fixed = [code for code in CHECKS if "/" not in CODES[code].severity]
    assert {code: CHECKS[code].severity for code in fixed} == {code: CODES[code].severity for code in fixed}
    varying = {code for code in CHECKS if "/" in CODES[code].severity}
    assert varying == {"FG019", "FG020"}  # drop to warning while no backend pod would run on Fargate


def test_every_fg_code_but_the_running_state_ones_has_a_catalogue_entry():
    fg = [code for code in CODES if code.startswith("FG")]
    assert fg == [f"FG{n:03d}" for n in range(1, len(fg) + 1)]
    assert set(fg) - set(CHECKS) == {"FG023"}  # found by the CoreDNS add-on rule on the running state


def test_retired_codes_are_never_reused():
    assert not set(RETIRED) & set(CODES)
    assert set(RETIRED.values()) <= set(CODES)


def test_documented_table_is_generated_from_the_code_table():
    assert (REPO / "docs" / "FINDINGS.md").read_text() == markdown_table(), \
        "run: python -m iagent_tui.insights.codes > docs/FINDINGS.md"


def test_every_placeholder_is_a_plain_name():
    for check in CHECKS.values():
        for text in (check.message, check.fix):
            for _, field, _, _ in string.Formatter().parse(text):
                assert field is None or field.isidentifier(), (check.code, field)
