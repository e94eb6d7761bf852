"""The README's layout table names paths that exist, and every top-level module of the product
appears in it (the issue asks that the table match the code)."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _layout_rows() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Layout"):text.index("## Dependencies")]
    return [line for line in section.splitlines() if line.startswith("| `")]


def test_every_path_in_the_layout_table_exists():
    for row in _layout_rows():
        first_cell = row.split("|")[1]
        for path in re.findall(r"`([^`]+)`", first_cell):
            assert (REPO / path).exists(), f"README layout names {path}, which does not exist"


def test_every_product_module_is_in_the_layout_table():
    named = " ".join(row.split("|")[1] for row in _layout_rows())
    for module in sorted((REPO / "iagent_tui").glob("*.py")):
        if module.name in ("__init__.py", "__main__.py"):
            continue
        assert f"iagent_tui/{module.name}" in named, f"iagent_tui/{module.name} is missing from the README layout"
    for package in ("screens", "actions", "manifests", "iagent_sandbox", "tests", "bench"):
        assert f"{package}/" in named
