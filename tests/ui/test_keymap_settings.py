"""`keymap:` in iagent.yaml reaches the dashboard: settings -> build_app -> App.set_keymap, and the
Textual-free key names of iagent_tui/keymap.py agree with Textual's own."""

from __future__ import annotations

from textual.keys import Keys, _character_to_key

from iagent_tui.app import StaticSource, build_app
from iagent_tui.config import load_settings
from iagent_tui.keymap import _NAMED_KEYS, DEFAULT_KEYS, character_key
from screens.help import HelpScreen
from screens.namespaces import NamespaceSwitcher

from .fixtures import mid_migration
from .helpers import until

SIZE = (200, 60)


async def test_a_keymap_in_the_settings_file_remaps_keys_on_the_dashboard(tmp_path):
    path = tmp_path / "iagent.yaml"
    path.write_text("keymap:\n  open-help: f1\n  switch-namespace: ctrl+n\n")
    app = build_app(load_settings(path, env={}), None, source=StaticSource(mid_migration()))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshots_rendered >= 1, what="first snapshot")
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen is app.dashboard  # the old key no longer opens help
        await pilot.press("f1")
        help_screen = await until(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen, what="help on f1")
        text = str(help_screen.query_one("#help-text").render())
        assert "f1  Show every key" in text and "ctrl+n  Switch namespace" in text
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard, what="back on the dashboard")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, NamespaceSwitcher), what="namespaces on ctrl+n")


def test_key_names_agree_with_textual():
    assert _NAMED_KEYS <= {k.value for k in Keys}
    for code in range(33, 127):
        assert character_key(chr(code)) == _character_to_key(chr(code)), chr(code)
    assert DEFAULT_KEYS["open-help"] == "question_mark" and DEFAULT_KEYS["deploy"] == "D"
