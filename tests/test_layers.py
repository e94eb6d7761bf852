"""The layering rules of DESIGN.md, enforced: nothing below screens/ and app.py imports Textual,
only the command line (cli.py, commands/) reaches into the sandbox, and the sandbox imports nothing
from the product. Checked twice: statically over the sources, and at run time over sys.modules
after a fresh interpreter imports a module (as Harlequin's test_import_hygiene does), which also
catches imports made indirectly or inside functions that run at import time."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

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
        if rel.startswith("iagent_tui/commands/") or rel == "iagent_tui/cli.py":
            continue
        if any(name == "iagent_sandbox" or name.startswith("iagent_sandbox.") for name in _imports(path)):
            offenders.append(rel)
    assert offenders == [], f"product code imports the sandbox: {offenders}"


PRODUCT_PACKAGES = ("iagent_tui", "screens", "actions")


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def test_the_sandbox_imports_nothing_from_the_product():
    offenders = {}
    for path in _python_files("iagent_sandbox"):
        product = sorted(n for n in _imports(path) if _top(n) in PRODUCT_PACKAGES)
        if product:
            offenders[path.relative_to(REPO).as_posix()] = product
    assert offenders == {}, f"the sandbox imports the product: {offenders}"


def _modules_after(code: str) -> set[str]:
    """Top-level packages in sys.modules after a fresh interpreter runs ``code``."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


SANDBOX_MODULES = ("iagent_sandbox.runtime", "iagent_sandbox.aws.sandbox", "iagent_sandbox.kube.server",
                   "iagent_sandbox.controllers", "iagent_sandbox.scenarios", "iagent_sandbox.helm_shim")


def test_the_running_sandbox_loads_nothing_from_the_product():
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in SANDBOX_MODULES)
    # every controller module too: they are imported by name when the controllers start
    code += ("import pkgutil, iagent_sandbox.controllers as c\n"
             "[importlib.import_module(f'{c.__name__}.{m.name}') for m in pkgutil.iter_modules(c.__path__)]\n")
    loaded = _modules_after(code)
    assert loaded & set(PRODUCT_PACKAGES) == set()


HEADLESS_COMMANDS = ("iagent_tui.commands.status", "iagent_tui.commands.doctor", "iagent_tui.commands.actions",
                     "iagent_tui.commands.options", "iagent_tui.commands.sandbox", "iagent_tui.commands.sandbox_option")


@pytest.mark.parametrize("module", HEADLESS_COMMANDS)
def test_headless_commands_load_neither_textual_nor_the_sandbox(module):
    loaded = _modules_after(f"import {module}")
    assert "textual" not in loaded
    assert loaded & {"iagent_sandbox", "moto"} == set()


@pytest.mark.parametrize("args", [["--help"], ["status", "--help"], ["doctor", "--help"], ["deploy", "--help"],
                                  ["sandbox", "--help"]])
def test_the_command_line_loads_neither_textual_nor_the_sandbox_until_asked(args):
    loaded = _modules_after(
        "from iagent_tui.cli import main\n"
        f"main.main({args!r}, prog_name='iagent-tui', standalone_mode=False)\n")
    assert "textual" not in loaded
    assert loaded & {"iagent_sandbox", "moto", "werkzeug", "boto3"} == set()
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
