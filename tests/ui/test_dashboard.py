"""Pilot tests of the dashboard fed from a StaticSource: in-place updates, staleness, detail views,
filter, namespace switcher, help and the palette."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Static, TabbedContent

from iagent_tui.app import IagentApp, StaticSource
from iagent_tui.model import SourceState, frozen_map
from screens.detail import DetailScreen
from screens.help import HelpScreen
from screens.keyed_table import KeyedTable
from screens.namespaces import NamespaceSwitcher
from screens.panels import Panel

from .fixtures import EC2_NODE_1, NOW, at, evolve, make_pod, mid_migration
from .helpers import until

SIZE = (200, 60)


def table(app: IagentApp, panel: str) -> KeyedTable:
    return app.dashboard.query_one(f"#table-{panel}", KeyedTable)


def cell(app: IagentApp, panel: str, key: str, column: str) -> str:
    """The cell's whole text (a narrow panel shows it cut with an ellipsis, or not at all)."""
    return table(app, panel).full_text(key, column)


def static_text(widget: Static) -> str:
    return str(widget.render())


async def started(pilot, app: IagentApp, rendered: int = 1) -> None:
    await until(pilot, lambda: app.snapshots_rendered >= rendered, what=f"{rendered} snapshot(s) on screen")


async def test_panels_show_the_snapshot_with_literal_brackets():
    # A still clock: fp-prod is CREATING, so ages tick with the App's clock between snapshots.
    app = IagentApp(StaticSource(mid_migration()), clock=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        assert table(app, "profiles").row_keys == ["fp-default", "fp-prod"]
        assert cell(app, "profiles", "fp-prod", "status") == "CREATING"
        assert cell(app, "profiles", "fp-prod", "since") == "1m20s"  # against taken_at, not the wall clock
        assert cell(app, "profiles", "fp-default", "pods") == "2"
        assert cell(app, "profiles", "fp-default", "cost").startswith("$")
        assert app.dashboard.query_one("#panel-nodes", Panel).border_title == "Nodes — Fargate 2 · EC2 2"
        # Kubernetes text with [ and ] reaches the screen as written, not as markup.
        key = "prod/Pod/web-5c6b7-pqrst|FailedScheduling|" + mid_migration().events[2].message
        assert cell(app, "events", key, "message").endswith("were [unschedulable]. (x3)")
        assert "Started" not in [cell(app, "events", k, "reason") for k in table(app, "events").row_keys]
        target_key = next(k for k in table(app, "targets").row_keys if k.endswith("10.0.3.99:80"))
        assert cell(app, "targets", target_key, "description") == "Health checks failed with these codes: [502]"
        assert "token expires in 2m00s" in static_text(app.dashboard.query_one("#header", Static))


async def test_rows_update_in_place_and_the_cursor_stays_on_its_row():
    source = StaticSource(mid_migration())
    app = IagentApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        pods = table(app, "pods")
        pods.focus()
        pods.move_cursor(row=pods.get_row_index("prod/web-5c6b7-klmno"))
        await pilot.pause()
        assert pods.cursor_key() == "prod/web-5c6b7-klmno"
        untouched = pods.get_cell("default/api-7d9f8-abcde", "name")
        first = mid_migration()
        # A new pod sorting before the cursor's row, one pod gone, one pod changing status.
        new_pods = tuple(p for p in first.pods if p.name != "web-5c6b7-pqrst") + (
            make_pod("default", "aaa-0000-new", EC2_NODE_1, "ec2", reason="ContainerCreating", ready=False),)
        new_pods = tuple(replace(p, reason="Running", ready=True) if p.name == "coredns-6b9f-bbbbb" else p
                         for p in new_pods)
        source.publish(evolve(first, pods=new_pods))
        await started(pilot, app, 2)
        assert pods.row_keys[0] == "default/aaa-0000-new"
        assert "prod/web-5c6b7-pqrst" not in pods.row_keys
        assert cell(app, "pods", "kube-system/coredns-6b9f-bbbbb", "status") == "Running"
        assert pods.cursor_key() == "prod/web-5c6b7-klmno"
        assert pods.row_count == len(new_pods)
        assert pods.get_cell("default/api-7d9f8-abcde", "name") is untouched  # not re-added


async def test_a_failing_source_keeps_the_last_rows_and_says_since_when_and_why():
    source = StaticSource(mid_migration())
    app = IagentApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        panel = app.dashboard.query_one("#panel-targets", Panel)
        assert panel.has_class("-stale")  # the fixture's target health poll is failing
        stale_line = static_text(panel.query_one(".panel-stale", Static))
        assert "Not updated since 10:21:00 (target groups)" in stale_line and "[not permitted]" in stale_line
        assert table(app, "targets").row_count == 3  # last data kept
        first = mid_migration()
        pods_down = SourceState("pods", False, at(1700), "connection refused", stale_since=at(1710))
        source.publish(evolve(first, sources=frozen_map({**first.sources, "pods": pods_down})))
        await started(pilot, app, 2)
        pods_panel = app.dashboard.query_one("#panel-pods", Panel)
        assert pods_panel.has_class("-stale")
        assert "connection refused" in static_text(pods_panel.query_one(".panel-stale", Static))
        assert table(app, "pods").row_count == len(first.pods)


async def test_a_dead_endpoint_is_a_sentence_in_the_panel_not_an_exception_name():
    import aiohttp
    from aiohttp.client_reqrep import ConnectionKey

    from iagent_tui.services.errors import from_kube

    refused = aiohttp.ClientConnectorError(ConnectionKey("127.0.0.1", 6443, True, True, None, None, None),
                                           ConnectionRefusedError(111, "Connect call failed"))
    error = from_kube(refused, "watch events").message
    source = StaticSource(mid_migration())
    app = IagentApp(source, clock=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        first = mid_migration()
        down = SourceState("events", False, at(1700), error, stale_since=at(1710))
        source.publish(evolve(first, sources=frozen_map({**first.sources, "events": down})))
        await started(pilot, app, 2)
        line = static_text(app.dashboard.query_one("#panel-events .panel-stale", Static))
        assert line.startswith("Not updated since 10:28:30 (events): Could not watch events: endpoint unreachable: "
                               "cannot connect to 127.0.0.1:6443: connection refused"), line
        assert "Check the endpoint" in line and "ClientConnectorError" not in line and "ssl:default" not in line


async def test_enter_opens_detail_views_with_yaml_events_logs_and_the_pod_behind_a_target():
    asked: list[tuple[str, str]] = []

    async def fetch_logs(namespace: str, name: str) -> str:
        asked.append((namespace, name))
        return "GET / 200 [ok]"

    app = IagentApp(StaticSource(mid_migration()), fetch_logs=fetch_logs)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        pods = table(app, "pods")
        pods.focus()
        pods.move_cursor(row=pods.get_row_index("default/api-7d9f8-abcde"))
        await pilot.press("enter")
        detail = await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen)
        assert "name: api-7d9f8-abcde" in static_text(detail.query_one("#detail-yaml", Static))
        assert "fargate-scheduler" in static_text(detail.query_one("#detail-events", Static))
        await until(pilot, lambda: "GET / 200 [ok]" in static_text(detail.query_one("#detail-logs", Static)),
                    what="logs shown")
        assert asked == [("default", "api-7d9f8-abcde")]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard)

        targets = table(app, "targets")
        targets.focus()
        targets.move_cursor(row=0)
        await pilot.press("enter")
        detail = await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen)
        assert detail.query_one(TabbedContent).get_pane("tab-pod") is not None
        assert "name: api-7d9f8-abcde" in static_text(detail.query_one("#detail-pod", Static))
        assert "state: healthy" in static_text(detail.query_one("#detail-yaml", Static))
        await pilot.press("escape")

        profiles = table(app, "profiles")
        profiles.focus()
        await pilot.press("enter")
        detail = await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen)
        assert "name: fp-default" in static_text(detail.query_one("#detail-yaml", Static))


async def test_filter_narrows_every_panel_and_escape_clears_it():
    app = IagentApp(StaticSource(mid_migration()))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("slash")
        await pilot.press(*"fghij")
        await until(pilot, lambda: table(app, "pods").row_keys == ["default/api-7d9f8-fghij"], what="filtered pods")
        assert table(app, "targets").row_count == 1
        assert app.dashboard.query_one("#panel-pods", Panel).border_subtitle == "1 of 6"
        await pilot.press("escape")
        await until(pilot, lambda: table(app, "pods").row_count == 6, what="filter cleared")
        # Keys bound on the dashboard (n, z, q, digits, /) are plain text inside the filter.
        await pilot.press("slash", *"n1zq/")
        await until(pilot, lambda: app.view.text == "n1zq/", what="bound keys typed as text")
        assert app.screen is app.dashboard and app.is_running


async def test_namespace_switcher_narrows_pods_and_events():
    app = IagentApp(StaticSource(mid_migration()))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("n")
        switcher = await until(pilot, lambda: isinstance(app.screen, NamespaceSwitcher) and app.screen)
        assert switcher.namespaces == ["default", "kube-system", "prod"]
        await pilot.press("down", "down", "down", "enter")  # all, default, kube-system, prod
        await until(pilot, lambda: app.view.namespace == "prod", what="namespace chosen")
        await until(pilot, lambda: all(k.startswith("prod/") for k in table(app, "pods").row_keys)
                    and table(app, "pods").row_count == 2, what="prod pods only")
        assert all(k.startswith("prod/") for k in table(app, "events").row_keys)


async def test_help_is_built_from_the_bindings_including_remapped_keys():
    app = IagentApp(StaticSource(mid_migration()), keymap={"switch-namespace": "N"})
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("question_mark")
        help_screen = await until(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen)
        text = static_text(help_screen.query_one("#help-text", Static))
        for command in app.commands:
            assert command.description in text
        assert "N  Switch namespace" in text
        await pilot.press("escape")
        await pilot.press("N")  # the remapped key works
        await until(pilot, lambda: isinstance(app.screen, NamespaceSwitcher), what="remapped key")


async def test_palette_lists_every_command_and_view():
    app = IagentApp(StaticSource(mid_migration()))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for command in app.commands:
            assert command.description in titles
        assert "Go to ALB target health" in titles
        assert "Theme" in " ".join(titles)


async def test_covered_dashboard_renders_once_when_shown_again():
    source = StaticSource(mid_migration())
    app = IagentApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        first = mid_migration()
        for n in range(3):
            first = evolve(first, taken_at=NOW)
            source.publish(first)
            await until(pilot, lambda: app.snapshot is first, what="snapshot received")
        assert app.snapshots_rendered == 1  # nothing rendered under the help screen
        await pilot.press("escape")
        await started(pilot, app, 2)
        assert app.snapshots_rendered == 2


class FailingSource(StaticSource):
    """A source whose feed breaks after the first snapshot (e.g. the monitor lost its client)."""

    async def snapshots(self):
        yield mid_migration()
        raise ConnectionError("cannot reach https://127.0.0.1:1 [connection refused]")


async def test_a_broken_feed_keeps_the_last_data_and_says_why():
    app = IagentApp(FailingSource())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.feed_error, what="feed failure noticed")
        header = static_text(app.dashboard.query_one("#header", Static))
        assert ("cluster feed lost: Could not follow the cluster: endpoint unreachable: "
                "cannot reach https://127.0.0.1:1 [connection refused]") in header
        assert table(app, "pods").row_count == len(mid_migration().pods)
        assert app.is_running


async def test_a_snapshot_the_insights_cannot_digest_does_not_crash_the_dashboard():
    source = StaticSource(mid_migration())
    app = IagentApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        kept = app.assessment

        def broken_insights(snapshot):
            raise ValueError("invalid Kubernetes quantity 'lots' [cpu]")
        app.assessor = broken_insights
        first = mid_migration()
        source.publish(evolve(first, pods=first.pods + (make_pod("default", "zzz-new", EC2_NODE_1, "ec2"),)))
        await started(pilot, app, 2)
        assert "default/zzz-new" in table(app, "pods").row_keys  # the panels still follow the cluster
        assert app.assessment is kept  # with the last good cost/findings
        assert "insights failed on snapshot 8: invalid Kubernetes quantity 'lots' [cpu]" in app._last_render_error
        assert app.is_running


async def test_a_theme_change_recolours_the_cells():
    app = IagentApp(StaticSource(mid_migration()))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        from textual.color import Color

        def active_colour():
            return table(app, "profiles").get_cell("fp-default", "status").style.color
        before = active_colour()
        assert before == Color.parse(app.theme_variables["success"]).rich_color
        app.theme = "nord"
        expected = lambda: Color.parse(app.theme_variables["success"]).rich_color  # noqa: E731
        await until(pilot, lambda: expected() != before and active_colour() == expected(),
                    what="cells recoloured")
        assert table(app, "profiles").row_keys == ["fp-default", "fp-prod"]


async def test_z_zooms_the_focused_panel_and_back():
    app = IagentApp(StaticSource(mid_migration()))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("5")  # go to pods
        await pilot.press("z")
        await until(pilot, lambda: app.dashboard.maximized is app.dashboard.query_one("#panel-pods"),
                    what="pods zoomed")
        assert table(app, "pods").region.height > SIZE[1] // 2
        await pilot.press("z")
        await until(pilot, lambda: app.dashboard.maximized is None, what="zoom restored")


async def test_open_detail_can_be_remapped():
    app = IagentApp(StaticSource(mid_migration()), keymap={"open-detail": "o"})
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("2")  # nodes
        await pilot.press("o")
        detail = await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen)
        assert "fargate-ip-10-0-1-17" in detail.spec.title
