"""The insights package stays pure: standard library and PyYAML only (no Textual, no clients,
no sandbox), so the service layer, the dashboard and the sandbox can all call it."""

import ast
import sys
from pathlib import Path

import iagent_tui.insights as insights

ALLOWED_THIRD_PARTY = {"yaml"}


def imported_modules(path: Path, *, top_level: bool = True) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {n.split(".")[0] for n in names} if top_level else names


def test_insights_imports_only_stdlib_and_yaml():
    package = Path(insights.__file__).parent
    for path in sorted(package.glob("*.py")):
        foreign = imported_modules(path) - set(sys.stdlib_module_names) - ALLOWED_THIRD_PARTY
        assert not foreign, f"{path.name} imports {sorted(foreign)}"


def test_insights_does_no_file_or_network_io():
    package = Path(insights.__file__).parent
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text())
        calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert "open" not in calls, path.name
        io_modules = {"socket", "subprocess", "urllib.request", "asyncio", "os", "shutil", "http.client"}
        assert not imported_modules(path, top_level=False) & io_modules, path.name
