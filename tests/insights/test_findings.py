"""The documented code table and the check catalogue agree, and messages fill completely."""

import re
import string

import iagent_tui.insights.findings as findings_module
from iagent_tui.insights.findings import CHECKS


def documented_table():
    rows = re.findall(r"^\| (FG\d{3}) \| (\w+)\s*\|", findings_module.__doc__, re.MULTILINE)
    return dict(rows)


def test_docstring_table_matches_catalogue():
    assert documented_table() == {code: check.severity for code, check in CHECKS.items()}


def test_codes_are_sequential_and_unique():
    assert list(CHECKS) == [f"FG{n:03d}" for n in range(1, len(CHECKS) + 1)]


def test_every_placeholder_is_a_plain_name():
    for check in CHECKS.values():
        for text in (check.message, check.fix):
            for _, field, _, _ in string.Formatter().parse(text):
                assert field is None or field.isidentifier(), (check.code, field)
