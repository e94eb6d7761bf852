"""The on-call keys (issue #12): the journal view, a shell in the selected pod, its logs followed."""

from __future__ import annotations

import shlex
from types import SimpleNamespace

from textual.widgets import DataTable

from actions.base import Plan, PlanStep, ProgressEvent
from actions.journal import Journal, RunTarget
from iagent_tui.app import IagentApp, StaticSource
from iagent_tui.journal_runs import list_runs
from iagent_tui.wiring import PodShell
from screens.journal import JournalRunScreen, JournalScreen
from screens.pod_logs import PodLogsScreen, new_log_lines

from .fixtures import mid_migration
from .helpers import until

SIZE = (160, 48)
POD = "prod/web-5c6b7-klmno"


def write_runs(directory) -> None:
    """Two runs written by the real Journal: a deploy that finished, then a smoke test killed mid-step
    (no result line, its last line torn)."""
    steps = (PlanStep("profile:fp-prod", "Create Fargate profile fp-prod", "create", "EKS profile"),
             PlanStep("coredns", "Move CoreDNS to Fargate [kube-system]", "change", "CoreDNS"))
    deploy = Journal(directory, "deploy", "iagent-cluster")
    deploy.start(Plan("deploy", "iagent-cluster", steps), read_only=False,
                 target=RunTarget("sandbox-ctx", "https://127.0.0.1:6443", True))
    deploy.event(ProgressEvent("step_finished", "Created fp-prod", "profile:fp-prod", ok=True))
    deploy.finish("ok")
    deploy.close()
    smoke = Journal(directory, "smoke", "iagent-cluster")
    smoke.start(Plan("smoke", "iagent-cluster", steps[:1]), read_only=False)
    smoke.event(ProgressEvent("step_started", "Deploying the sample app", "sample-app"))
    smoke.close()
    with open(smoke.path, "a", encoding="utf-8") as fh:
        fh.write('{"time": "2026-12-02T10:00:00+00:00", "type": "ev')  # killed mid-write


async def started(pilot, app: IagentApp) -> None:
    await until(pilot, lambda: app.snapshots_rendered >= 1, what="first snapshot")


async def select_pod(pilot, app: IagentApp, key: str = POD) -> None:
    pods = app.dashboard.query_one("#table-pods")
    pods.focus()
    pods.move_cursor(row=pods.get_row_index(key))
    await until(pilot, lambda: pods.cursor_key() == key, what="cursor on the pod")


def test_runs_are_listed_newest_first_and_a_torn_run_is_interrupted(tmp_path):
    write_runs(tmp_path)
    runs = list_runs(tmp_path)
    assert [r.action for r in runs] == ["smoke", "deploy"]
    assert runs[0].result == "interrupted" and runs[0].stopped_at == "sample-app"
    assert runs[1].result == "ok" and runs[1].context == "sandbox-ctx" and "@" in runs[1].who
    assert list_runs(tmp_path / "missing") == []


async def test_the_journal_key_lists_runs_and_enter_shows_one_runs_steps(tmp_path):
    write_runs(tmp_path)
    app = IagentApp(StaticSource(mid_migration()), journal_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("j")
        screen = await until(pilot, lambda: isinstance(app.screen, JournalScreen) and app.screen, what="journal")
        table = screen.query_one("#journal-table", DataTable)
        await until(pilot, lambda: table.row_count == 2, what="two runs listed")
        assert [str(c) for c in table.get_row_at(0)][3:] == ["smoke", "interrupted", "sample-app"]
        assert [str(c) for c in table.get_row_at(1)][2:5] == ["iagent-cluster", "deploy", "ok"]
        table.move_cursor(row=1)
        await pilot.press("enter")
        run = await until(pilot, lambda: isinstance(app.screen, JournalRunScreen) and app.screen, what="run view")
        text = str(run.query_one("#journal-run-text").render())
        assert "[todo] change: Move CoreDNS to Fargate [kube-system]" in text  # brackets as written
        assert "step_finished [profile:fp-prod] Created fp-prod" in text and "Result: ok" in text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, JournalScreen), what="back to the list")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard, what="back on the dashboard")


def test_the_shell_command_uses_the_dashboards_kubeconfig_and_context():
    assert PodShell("/home/me/.kube/config", "eks:prod").command("prod", "web-1") == [
        "kubectl", "--kubeconfig=/home/me/.kube/config", "--context=eks:prod",
        "exec", "-it", "-n", "prod", "web-1", "--", "sh"]
    assert PodShell().command("default", "api") == ["kubectl", "exec", "-it", "-n", "default", "api", "--", "sh"]
    settings = SimpleNamespace(kubeconfig="/tmp/kc", kube_context=None)
    connection = SimpleNamespace(kube=SimpleNamespace(context="iagent-sandbox"))
    assert PodShell.for_connection(settings, connection).command("a", "b")[1:3] == [
        "--kubeconfig=/tmp/kc", "--context=iagent-sandbox"]
    settings.kube_context = "chosen"  # the setting wins over the connection's context
    assert "--context=chosen" in PodShell.for_connection(settings, connection).command("a", "b")
    assert PodShell.for_connection(SimpleNamespace(kubeconfig=None, kube_context=None), None).command("a", "b") \
        == ["kubectl", "exec", "-it", "-n", "a", "b", "--", "sh"]


async def test_without_kubectl_the_shell_key_shows_the_command(monkeypatch):
    monkeypatch.setenv("PATH", "")
    shell = PodShell("/tmp/kube config", "eks:prod")
    app = IagentApp(StaticSource(mid_migration()), pod_shell=shell)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await select_pod(pilot, app)
        await pilot.press("s")
        expected = shlex.join(shell.command("prod", "web-5c6b7-klmno"))
        await until(pilot, lambda: any(expected in str(n.message) for n in app._notifications),
                    what="the command in a notification")
        assert "'--kubeconfig=/tmp/kube config'" in expected
        assert app.screen is app.dashboard


async def test_the_shell_key_needs_a_selected_pod(monkeypatch):
    monkeypatch.setenv("PATH", "")
    app = IagentApp(StaticSource(mid_migration()))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        app.action_focus_panel("nodes")
        await pilot.press("s")
        await until(pilot, lambda: any("Select a pod" in str(n.message) for n in app._notifications),
                    what="asked to select a pod")


def test_new_log_lines_skip_what_is_shown():
    assert new_log_lines([], ["a", "b"]) == ["a", "b"]
    assert new_log_lines(["a", "b", "c"], ["b", "c", "d", "e"]) == ["d", "e"]
    assert new_log_lines(["a", "b"], ["a", "b"]) == []
    assert new_log_lines(["a", "b"], ["x", "y"]) == ["x", "y"]  # no overlap: the whole tail is new


async def test_followed_logs_append_new_lines_and_stop_polling_when_closed():
    calls: list[tuple[str, str]] = []

    async def fetch(namespace: str, name: str) -> str:
        calls.append((namespace, name))
        # The tail grows by one line per read, keeping at most three lines (like tailLines=3).
        lines = [f"line {i} [level=info]" for i in range(1, len(calls) + 3)]
        return "\n".join(lines[-3:]) + "\n"

    app = IagentApp(StaticSource(mid_migration()), fetch_logs=fetch, log_interval=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await select_pod(pilot, app)
        await pilot.press("l")
        screen = await until(pilot, lambda: isinstance(app.screen, PodLogsScreen) and app.screen, what="logs screen")
        await until(pilot, lambda: len(screen.lines) >= 6, what="new lines appended")
        assert screen.lines[:6] == [f"line {i} [level=info]" for i in range(1, 7)]  # in order, no repeats
        assert calls[0] == ("prod", "web-5c6b7-klmno")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard, what="back on the dashboard")
        await until(pilot, lambda: not any(w.group == "pod-logs" and not w.is_finished for w in app.workers),
                    what="the polling worker cancelled")
        polled = len(calls)
        for _ in range(5):
            await pilot.pause()
        assert len(calls) == polled


async def test_a_failed_read_keeps_the_lines_and_says_why():
    state = {"reads": 0, "denied": False}

    def fetch(namespace: str, name: str) -> str:
        state["reads"] += 1
        if state["reads"] == 2:
            state["denied"] = True
        if state["denied"]:
            raise RuntimeError('pods "web" is forbidden [403]')
        return "first [a]\n" + ("second\n" if state["reads"] > 2 else "")

    app = IagentApp(StaticSource(mid_migration()), fetch_logs=fetch, log_interval=0.01)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await select_pod(pilot, app)
        await pilot.press("l")
        screen = await until(pilot, lambda: isinstance(app.screen, PodLogsScreen) and app.screen, what="logs screen")
        status = screen.query_one("#pod-logs-status")
        await until(pilot, lambda: 'forbidden [403]' in str(status.render()), what="the failure on the status line")
        assert screen.lines == ["first [a]"]  # kept, not blanked
        state["denied"] = False
        await until(pilot, lambda: screen.lines == ["first [a]", "second"], what="lines after the failure")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.dashboard, what="back on the dashboard")
