"""The layering rules of DESIGN.md, enforced: nothing below screens/ and app.py imports Textual,
and only the command line (cli.py, commands/) reaches into the sandbox."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # resolve relative imports against the file's package
                package = path.relative_to(REPO).with_suffix("").parts[:-node.level]
                module = ".".join(package + ((module,) if module else ()))
            names.add(module)
    return names


def _python_files(*roots: str):
    for root in roots:
        yield from (REPO / root).rglob("*.py")


def test_core_layers_do_not_import_textual():
    offenders = []
    for path in _python_files("iagent_tui", "actions"):
        rel = path.relative_to(REPO).as_posix()
        if rel == "iagent_tui/app.py":
            continue
        if any(name == "textual" or name.startswith("textual.") for name in _imports(path)):
            offenders.append(rel)
    assert offenders == [], f"Textual imported below the UI layer: {offenders}"


def test_only_the_command_line_imports_the_sandbox():
    offenders = []
    for path in _python_files("iagent_tui", "actions", "screens"):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith(("iagent_tui/sandbox/", "iagent_tui/commands/")) or rel == "iagent_tui/cli.py":
            continue
        if any(name.startswith("iagent_tui.sandbox") for name in _imports(path)):
            offenders.append(rel)
    assert offenders == [], f"product code imports the sandbox: {offenders}"


def test_settings_keymap_and_wiring_load_without_textual_at_run_time():
    # The import statements above miss imports made inside functions and by other packages:
    # import the modules the headless commands use in a fresh interpreter and look (Harlequin's
    # test_import_hygiene).
    import subprocess
    import sys

    code = ("import sys, iagent_tui.config, iagent_tui.keymap, iagent_tui.wiring; "
            "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
