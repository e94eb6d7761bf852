"""The Textual App: owns the snapshot source (the monitor), the action runs and the screens.

Snapshots arrive from a SnapshotSource (ClusterMonitor in the product, StaticSource in tests and
demos); each one is assessment once (cost, start times, findings) and rendered once, only when it is
new. Nothing ticks while nothing changes. Actions are planned, confirmed in a dialog and run in a
worker owned by the App (group "actions"), never by the dialog, so closing a screen cannot kill a
half-finished migration step.
"""

from __future__ import annotations

import asyncio
import gc
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

import screens
from actions.base import Action, Plan, ProgressEvent
from actions.journal import default_dir as default_journal_dir
from screens.add_namespace import NamespaceNameDialog, RestartChoiceDialog
from screens.confirm import ConfirmDialog
from screens.dashboard import DashboardScreen
from iagent_tui.insights.assessment import Assessment, Assessor
from screens.detail import DetailScreen, LogFetcher, detail_for
from screens.help import HelpScreen
from screens.journal import JournalScreen
from screens.keyed_table import tone_styles
from screens.keymap import (ACTION_KEYS, APP_COMMANDS, DETAIL_COMMAND, Command, action_commands,
                            bindings, key_label)
from screens.namespaces import NamespaceSwitcher
from screens.pod_logs import PodLogsScreen
from screens.progress import ActionProgress
from screens.rows import View
from screens.connecting import ConnectingScreen
from screens.cost import CostScreen
from screens.walkthrough import WalkthroughScreen

from .keymap import check_keymap
from .model import Snapshot
from .services.errors import ServiceError, describe, is_connection_error
from .port_forward import PortForwards
from .app_oncall import OnCallMixin
from .wiring import (ActionProvider, ContextSwitch, NamespaceActions, PodShell, RunAction, SnapshotSource,
                     StaticSource, default_run, wire_dashboard)

# StaticSource and NamespaceActions are re-exported: tests and demos build the App with them from here.
__all__ = ["ADD_NAMESPACE", "IagentApp", "NamespaceActions", "StaticSource", "build_app", "in_transition",
           "run_dashboard"]

ADD_NAMESPACE = "add-namespace"
IDLE_AGE_SECONDS = 10.0  # how often ages advance while nothing is in transition
THREADED_ASSESSMENT_PODS = 1000  # from this many pods the derivation runs off the event loop
LARGE_GC_THRESHOLDS = (20_000, 50, 50)  # gc thresholds once a large cluster is on screen (see render_if_visible)


def in_transition(snapshot: Snapshot) -> bool:
    """Something whose age on screen is worth ticking: AWS-side transitions, or pods starting."""
    return snapshot.in_transition() or any(
        p.phase == "Pending" or p.reason in ("Pending", "ContainerCreating", "PodInitializing")
        for p in snapshot.pods)


class IagentApp(OnCallMixin, App):
    TITLE = "iagent-tui"
    CSS_PATH = Path(screens.__file__).parent / "app.tcss"
    BINDINGS = [
        *bindings(APP_COMMANDS + (DETAIL_COMMAND,)),
        *(Binding(key, f"start_action('{name}')", f"Run {name}", id=name)
          for name, key in ACTION_KEYS.items()),
    ]

    def __init__(self, source: SnapshotSource, *, actions: Iterable[Action] = (),
                 run_action: RunAction | None = None, fetch_logs: LogFetcher | None = None,
                 read_only: bool = False, start_target: float = 120.0,
                 rate_overrides: Mapping[str, Any] | None = None,
                 keymap: Mapping[str, str] | None = None,
                 action_provider: "ActionProvider | None" = None,
                 add_namespace: NamespaceActions | None = None,
                 planned_namespaces: Sequence[str] = ("default", "prod", "staging"),
                 pod_shell: PodShell | None = None, journal_dir: Path | None = None,
                 context_switch: ContextSwitch | None = None, port_forwards: PortForwards | None = None,
                 log_interval: float = 2.0, headroom_percent: float = 20.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.planned_namespaces = tuple(planned_namespaces)  # settings.fargate.namespaces: the walkthrough's plan
        # Seconds since some fixed point; ages between snapshots advance by it (injected in tests).
        self.clock = clock
        self._received_at = 0.0  # clock() when the latest snapshot arrived
        self.age_timer: Timer | None = None  # once a second in transitions, slower when idle
        self.age_interval = 0.0
        self.action_provider = action_provider
        self.source = source
        self.actions: dict[str, Action] = {a.name: a for a in actions}
        self.add_namespace = add_namespace
        self.run_action_events = run_action or default_run
        self.fetch_logs = fetch_logs
        self.pod_shell = pod_shell or PodShell()
        self.context_switch = context_switch  # None: no kubeconfig behind this dashboard (tests, demos)
        self.port_forwards = port_forwards or PortForwards()
        self.journal_dir = Path(journal_dir) if journal_dir is not None else default_journal_dir()
        self.log_interval = log_interval  # seconds between two reads of a followed pod log
        self.read_only_flag = read_only
        self.assessor = Assessor(start_target, rate_overrides, planned_namespaces, headroom_percent=headroom_percent)
        self._assess_lock = threading.Lock()
        self._to_derive: Snapshot | None = None  # the newest snapshot waiting for its derivation (large clusters)
        self._derived_source: SnapshotSource | None = None  # the source whose snapshots were derived last
        self._freeze_after_render = False  # a large cluster's first render is to be frozen (gc.freeze)
        # Normalised the way settings are ("?" -> "question_mark"); a bad keymap in code fails here.
        self.user_keymap = check_keymap(keymap or {})
        self.snapshot: Snapshot | None = None
        self.assessment = Assessment(start_target=start_target)
        self.view = View()
        self.dashboard = DashboardScreen()
        self._dirty = False
        self._last_render_error = ""
        self.snapshots_rendered = 0  # how many snapshots reached the screen (tests, benchmark)
        self.badge = ""  # shown in the header, e.g. SANDBOX
        self.feed_error = ""  # why no new snapshots arrive (the source failed)
        self._quit_armed = False
        self._action_worker: Worker | None = None  # the worker running the confirmed action
        self._stale_version = -1  # snapshots up to this version predate a retry: not an answer to it

    # -- lifecycle ---------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self.push_screen(self.dashboard)
        self._show_connecting()
        self.run_worker(self._follow(), group="monitor", exit_on_error=False,
                        description="follow cluster snapshots")
        if self.action_provider is not None:
            self.run_worker(self._open_actions(), group="setup", exit_on_error=False,
                            description="prepare the actions")
        self.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    async def _open_actions(self) -> None:
        assert self.action_provider is not None
        actions, run_action = await self.action_provider.open()
        self.actions = {a.name: a for a in actions}
        self.run_action_events = run_action
        offer_namespace = getattr(self.action_provider, "namespace_actions", None)
        if offer_namespace is not None:
            self.add_namespace = offer_namespace()
        self.refresh_bindings()  # the action keys become active

    async def on_unmount(self) -> None:
        await self.port_forwards.stop_all()  # no kubectl left listening after the dashboard quits
        await self._close_services()

    async def _close_services(self) -> None:
        await self.source.stop()
        if self.action_provider is not None:
            await self.action_provider.close()
        close = getattr(self.fetch_logs, "close", None)
        if close is not None:
            await close()

    async def _follow(self) -> None:
        source = self.source
        await source.start()
        deriving: asyncio.Task | None = None
        try:
            async for snapshot in source.snapshots():
                if source is not self.source:
                    return  # switched to another context meanwhile: this feed is the old cluster's
                if len(snapshot.pods) < THREADED_ASSESSMENT_PODS:
                    self.apply_snapshot(snapshot)  # derived on the loop, then rendered
                    continue
                # At thousands of pods the derivation takes a hundred milliseconds or more: the
                # snapshot is shown at once with the last derivation (a new pod's cost and start
                # times read "-" until the next one lands), and the newest snapshot is derived
                # in a thread meanwhile. Waiting for it put the derivation on the path of every
                # change to the screen (p95 1.7 s from a pod's creation to its row, measured).
                self._to_derive = snapshot
                if self._derived_source is not source:
                    # The first snapshot waits for its derivation: rendered without it, every
                    # row would be filled twice (5,000 cost cells, then a second pass).
                    await self._derive_latest(source)
                    continue
                self.apply_snapshot(snapshot, self.assessment)
                if deriving is None or deriving.done():
                    deriving = asyncio.create_task(self._derive_latest(source), name="iagent-derive")
        finally:
            if deriving is not None:
                deriving.cancel()

    async def _derive_latest(self, source: SnapshotSource) -> None:
        """Derive the newest snapshot not yet derived, in a thread (the event loop keeps drawing
        and answering keys meanwhile), until none is waiting; snapshots in between are skipped."""
        while self._to_derive is not None:
            snapshot, self._to_derive = self._to_derive, None
            try:
                assessment = await asyncio.to_thread(self._assess, snapshot)
            except Exception as exc:  # noqa: BLE001 - keep the panels alive with the last derivation
                self._report_render_error(f"insights failed on snapshot {snapshot.version}: {exc}")
                continue
            if source is not self.source:
                return
            first = self._derived_source is not source
            newer_shown = not first and self.snapshot is not None and self.snapshot.version > snapshot.version
            self._derived_source = source
            if newer_shown:  # the screen shows a newer snapshot: it takes the derivation as is
                self.assessment = assessment
                self._show_latest()
            else:
                self.apply_snapshot(snapshot, assessment)
            if first:
                self._freeze_after_render = True

    def _assess(self, snapshot: Snapshot) -> Assessment:
        # The Assessor keeps per-pod memory between snapshots: one derivation at a time, whether
        # on the loop or in a thread that a context switch left running.
        with self._assess_lock:
            return self.assessor(snapshot)

    @property
    def commands(self) -> tuple[Command, ...]:
        titles = {name: action.title for name, action in self.actions.items()}
        if self.add_namespace is not None:
            titles[ADD_NAMESPACE] = self.add_namespace.title
        order = list(ACTION_KEYS)  # help and palette list the actions in the migration's order
        titles = dict(sorted(titles.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)))
        # Help and the palette show the keys in force: the user's keymap over the defaults.
        return tuple(replace(c, key=self.user_keymap.get(c.id, c.key))
                     for c in APP_COMMANDS + (DETAIL_COMMAND,) + action_commands(titles))

    @property
    def read_only(self) -> bool:
        connection = self.snapshot.connection if self.snapshot else None
        return self.read_only_flag or bool(connection and connection.read_only)

    # -- rendering ---------------------------------------------------------------------------
    def apply_snapshot(self, snapshot: Snapshot, assessment: Assessment | None = None) -> None:
        """Take a new snapshot: derive once (unless derived already), render if the dashboard is
        what the user sees."""
        self.snapshot = snapshot
        self._received_at = self.clock()
        if assessment is not None:
            self.assessment = assessment
        else:
            try:
                self.assessment = self._assess(snapshot)
            except Exception as exc:  # noqa: BLE001 - keep the panels alive with the last derivation
                self._report_render_error(f"insights failed on snapshot {snapshot.version}: {exc}")
        self._show_latest()
        self._schedule_age_refresh(snapshot)
        self.connecting_verdict()

    def _show_latest(self) -> None:
        """Render the latest snapshot and derivation wherever they are shown now."""
        assert self.snapshot is not None
        self._dirty = True
        self.render_if_visible()
        if isinstance(self.screen, WalkthroughScreen):
            self.screen.show(self.snapshot, self.assessment)
        elif isinstance(self.screen, CostScreen):
            self.screen.show(self.assessment)

    def _schedule_age_refresh(self, snapshot: Snapshot) -> None:
        """Ages ("In state", "Age") are measured against the snapshot's taken_at (server time) plus
        the time since it arrived. While something changes they tick once a second; while nothing
        does, every IDLE_AGE_SECONDS: an idle cluster publishes no snapshot for hours, and ages
        frozen at the last one (a Fargate node "0s" for an hour) disagree with kubectl. The idle
        tick re-renders only the age cells of three panels, diffed by key."""
        interval = 1.0 if in_transition(snapshot) else IDLE_AGE_SECONDS
        if self.age_timer is not None and self.age_interval != interval:
            self.age_timer.stop()
            self.age_timer = None
        if self.age_timer is None:
            self.age_interval = interval
            self.age_timer = self.set_interval(interval, self.refresh_ages, name="age-refresh")

    def refresh_ages(self) -> None:
        """Re-render the age cells as of taken_at + the time elapsed since the snapshot arrived."""
        snap = self.snapshot
        if snap is None or self.screen is not self.dashboard or not self.dashboard.is_mounted or self._dirty:
            return  # covered (it catches up when shown) or a full render is pending anyway
        elapsed = max(0.0, self.clock() - self._received_at)
        try:
            self.dashboard.show_ages(replace(snap, taken_at=snap.taken_at + timedelta(seconds=elapsed)),
                                     self.assessment, self.view)
        except Exception as exc:  # noqa: BLE001 - a failed tick must not kill the dashboard
            self._report_render_error(f"could not refresh ages: {exc}")

    def render_if_visible(self) -> None:
        # A dialog or detail view covers the panels: rendering them would be wasted work. The
        # dashboard catches up on the latest snapshot when it is shown again.
        if not self._dirty or self.screen is not self.dashboard or not self.dashboard.is_mounted:
            return
        self._dirty = False
        try:
            self.dashboard.show(self.snapshot, self.assessment, self.view)
            self.snapshots_rendered += 1
            if self._freeze_after_render:
                # The first render of a large cluster allocates hundreds of thousands of
                # long-lived objects (rows, cells, texts); moved out of the collector's sight,
                # they are not walked by every full collection, which stalled the loop for
                # 0.3-0.75 s at a time under churn (measured). As the monitor does with what it
                # lists first.
                self._freeze_after_render = False
                gc.freeze()
                # Under churn the rows, caches and snapshots that outlive a collection pile up
                # fast, and with the default thresholds (700, 10, 10) a full collection ran
                # every 2 s. Fewer, larger young collections; the frozen heap is never walked.
                gc.set_threshold(*LARGE_GC_THRESHOLDS)
        except Exception as exc:  # noqa: BLE001 - one bad snapshot must not kill the dashboard
            self._report_render_error(f"could not render snapshot: {exc}")
            self.log.error("render failed", exc_info=exc)

    def _rerender(self) -> None:
        self._dirty = True
        self.render_if_visible()

    def _restyle(self) -> None:
        self.dashboard.restyle()
        self._rerender()

    def _report_render_error(self, message: str) -> None:
        if message != self._last_render_error:
            self._last_render_error = message
            self.notify(message, severity="error", timeout=10, markup=False)

    # -- workers: one place for failures ------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state != WorkerState.ERROR:
            return
        error = worker.error
        if worker.group == "actions":
            progress = self.dashboard.query_one(ActionProgress)
            if progress.running:
                # A failure the services describe (or a lost connection) is its sentence; anything
                # else is a bug, shown with its type so it can be reported.
                progress.fail(describe(error) if isinstance(error, ServiceError) or is_connection_error(error)
                              else f"{type(error).__name__}: {error}")
                self._progress_changed()
            else:
                self.notify(f"{worker.description} failed: {error}", severity="error", timeout=15, markup=False)
        elif worker.group == "monitor":
            reason = describe(error, "follow the cluster")
            self.feed_error = f"cluster feed lost: {reason}"
            self.dashboard.show(self.snapshot, self.assessment, self.view)
            self.notify(f"Lost the cluster feed: {reason} The panels keep their last data.",
                        severity="error", timeout=30, markup=False)
        else:
            self.notify(f"{worker.description} failed: {error}", severity="error", timeout=10, markup=False)

    # -- navigation ---------------------------------------------------------------------------
    def action_focus_panel(self, panel: str) -> None:
        if self.screen is self.dashboard:
            self.dashboard.query_one(f"#table-{panel}").focus()

    def open_detail(self, panel: str, key: str) -> None:
        if self.snapshot is None:
            return
        spec = detail_for(panel, key, self.snapshot, self.assessment)
        if spec is None:
            self.notify("That row is gone from the latest snapshot.", severity="warning", markup=False)
            return
        self.push_screen(DetailScreen(spec, self.fetch_logs))

    def action_open_detail(self) -> None:
        focused = self.focused
        table_id = getattr(focused, "id", "") or ""
        if self.screen is self.dashboard and table_id.startswith("table-"):
            key = focused.cursor_key()
            if key is not None:
                self.open_detail(table_id.removeprefix("table-"), key)

    def action_zoom(self) -> None:
        if self.dashboard.maximized is not None:
            self.dashboard.minimize()
        elif self.focused is not None:
            self.dashboard.maximize(self.focused, container=True)

    def action_open_walkthrough(self) -> None:
        if self.screen is self.dashboard:
            self.push_screen(WalkthroughScreen(self.planned_namespaces))

    def action_open_cost(self) -> None:
        if self.screen is self.dashboard:
            self.push_screen(CostScreen())

    def action_open_journal(self) -> None:
        if self.screen is self.dashboard:
            self.push_screen(JournalScreen(self.journal_dir))

    def selected_pod(self) -> tuple[str, str] | None:
        """(namespace, name) of the row under the cursor of the Pods or CoreDNS panel, or None
        after telling the user to pick one."""
        focused = self.focused
        table_id = getattr(focused, "id", "") or ""
        key = focused.cursor_key() if table_id in ("table-pods", "table-coredns") else None
        namespace, _, name = (key or "").partition("/")
        if not name:
            self.notify("Select a pod in the Pods panel first.", severity="warning",
                        markup=False)
            return None
        return namespace, name

    def action_pod_logs(self) -> None:
        selected = self.selected_pod() if self.screen is self.dashboard else None
        if selected is None:
            return
        if self.fetch_logs is None:
            self.notify("Logs are not available: no log source was given to the dashboard.", severity="warning",
                        markup=False)
            return
        self.push_screen(PodLogsScreen(*selected, self.fetch_logs, interval=self.log_interval))

    def action_pod_shell(self) -> None:
        """kubectl exec into the selected pod with the dashboard's kubeconfig and context, the app
        suspended meanwhile; without kubectl on PATH, the command to run elsewhere."""
        selected = self.selected_pod() if self.screen is self.dashboard else None
        if selected is None:
            return
        command = self.pod_shell.command(*selected)
        shown = shlex.join(command)
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            self.notify(f"kubectl is not on PATH; run it in a terminal:\n{shown}", title="Shell in the pod",
                        severity="warning", timeout=30, markup=False)
            return
        try:
            with self.suspend():
                print(f"$ {shown}   (exit the shell to return to the dashboard)", flush=True)
                code = subprocess.call([kubectl, *command[1:]])
        except Exception as exc:  # noqa: BLE001 - no terminal to hand over (web, tests): say what to run
            self.notify(f"Could not open a shell here ({exc}); run it in a terminal:\n{shown}",
                        title="Shell in the pod", severity="warning", timeout=30, markup=False)
            return
        if code not in (0, 130):
            self.notify(f"{shown} ended with exit code {code}.", severity="warning", timeout=10, markup=False)

    def start_step_action(self, name: str, suggested_namespace: str = "") -> None:
        """The walkthrough's `a`: the same flow as the dashboard's action keys (plan, confirm
        dialog, progress), run by the App so it outlives the screen."""
        if name == ADD_NAMESPACE:
            self.action_start_action(name, suggested_namespace)
        else:
            self.action_start_action(name)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.commands, {c.id: c.key for c in self.commands}))

    def action_filter(self) -> None:
        if self.screen is not self.dashboard:
            return
        box = self.dashboard.query_one("#filter")
        box.display = True
        box.focus()

    def set_filter(self, text: str) -> None:
        self.view = replace(self.view, text=text.strip())
        self._rerender()

    def action_clear_filter(self) -> None:
        if self.screen is not self.dashboard:
            return
        box = self.dashboard.query_one("#filter")
        box.value = ""
        box.display = False
        self.view = View(warnings_only=self.view.warnings_only)  # the Events toggle has its own key
        self.dashboard.query_one("#table-pods").focus()
        self._rerender()

    def action_toggle_warnings(self) -> None:
        """Events: only Warnings, or everything (newest first either way)."""
        if self.screen is not self.dashboard:
            return
        self.view = replace(self.view, warnings_only=not self.view.warnings_only)
        self._rerender()

    def namespaces(self) -> list[str]:
        if self.snapshot is None:
            return []
        return sorted({p.namespace for p in self.snapshot.pods} | {w.namespace for w in self.snapshot.workloads})

    def action_switch_namespace(self) -> None:
        def chosen(namespace: str | None) -> None:
            if namespace is not None:
                self.view = replace(self.view, namespace=namespace)
                self._rerender()
        self.push_screen(NamespaceSwitcher(self.namespaces(), self.view.namespace), chosen)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for command in self.commands:
            key = f" ({key_label(command.key)})" if command.key else ""
            yield SystemCommand(command.description, f"{command.group}{key}",
                                partial(self.call_later, self.run_action, command.action))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("filter", "switch_namespace", "clear_filter", "focus_panel", "close_progress", "zoom",
                      "start_action", "open_walkthrough", "open_cost", "cancel_action", "toggle_warnings",
                      "open_journal", "pod_shell", "pod_logs", "port_forward",
                      "list_forwards") and self.screen is not self.dashboard:
            # Dashboard keys: hidden from the footer of detail views and dialogs (modal dialogs
            # already swallow them; a detail view must not start an action behind the user's back).
            return False
        if action == "switch_context":
            return self.screen is self.dashboard or isinstance(self.screen, ConnectingScreen)
        if action == "start_action":
            return bool(parameters) and (parameters[0] in self.actions
                                         or (parameters[0] == ADD_NAMESPACE and self.add_namespace is not None))
        if action == "close_progress":
            progress = self.dashboard.query_one(ActionProgress) if self.dashboard.is_mounted else None
            return progress is not None and progress.display and not progress.running
        if action == "cancel_action":
            return self._cancellable()
        return True

    def _cancellable(self) -> bool:
        progress = self.dashboard.query_one(ActionProgress) if self.dashboard.is_mounted else None
        worker = self._action_worker
        return bool(progress is not None and progress.running and worker is not None and not worker.is_finished)

    # -- actions: plan, confirm, run ----------------------------------------------------------
    def action_start_action(self, name: str, suggested_namespace: str = "") -> None:
        action = self.actions.get(name)
        namespaced = name == ADD_NAMESPACE and action is None and self.add_namespace is not None
        if action is None and not namespaced:
            self.notify(f"No action called {name!r}.", severity="error", markup=False)
            return
        if self.dashboard.query_one(ActionProgress).running:
            self.notify("An action is already running; wait for it to finish.", severity="warning", markup=False)
            return
        if namespaced:
            self.run_worker(self._ask_namespace_plan_and_confirm(suggested_namespace), group="actions", exit_on_error=False,
                            description=f"planning {name}")
            return
        self.run_worker(self._plan_and_confirm(action), group="actions", exit_on_error=False,
                        description=f"planning {name}")

    async def _plan_and_confirm(self, action: Action) -> None:
        plan = await action.plan()
        dialog = ConfirmDialog(plan, self.read_only, plan.cluster, tone_styles(self.theme_variables))
        self.push_screen(dialog, partial(self._confirmed, action, plan))

    async def _ask_namespace_plan_and_confirm(self, suggested: str = "") -> None:
        """Name (checked before any call), then the plan; when the namespace has workloads on
        EC2, which ones and whether to restart them, then the usual confirmation."""
        offered = self.add_namespace
        assert offered is not None
        namespace = await self.push_screen_wait(NamespaceNameDialog(offered.check, offered.title, suggested))
        if namespace is None:
            return
        action = offered.build(namespace, True)
        plan = await action.plan()
        restarts = [step for step in plan.pending if step.verb == "restart"]
        if restarts:
            restart = await self.push_screen_wait(RestartChoiceDialog(namespace, restarts))
            if restart is None:
                return
            if not restart:
                action = offered.build(namespace, False)
                plan = await action.plan()
        dialog = ConfirmDialog(plan, self.read_only, plan.cluster, tone_styles(self.theme_variables))
        self.push_screen(dialog, partial(self._confirmed, action, plan))

    def _confirmed(self, action: Action, plan: Plan, go: bool | None) -> None:
        if not go or self.read_only:
            return
        self.dashboard.query_one(ActionProgress).begin(plan, tone_styles(self.theme_variables))
        self._progress_changed()
        self._action_worker = self.run_worker(self._run(action, plan), group="actions", exit_on_error=False,
                                              description=f"running {action.name}")
        self.refresh_bindings()  # the cancel key shows while it runs

    async def _run(self, action: Action, plan: Plan) -> None:
        progress = self.dashboard.query_one(ActionProgress)
        try:
            async for event in self.run_action_events(action, plan):
                progress.apply(event)
                self._progress_changed()
        except asyncio.CancelledError:
            # The cancel key (or quitting): the runner journaled where it stopped; say so here.
            progress.cancel()
            self._progress_changed()
            raise
        finally:
            self.call_later(self.refresh_bindings)
        if progress.running:  # the run ended without a "done" event
            progress.apply(ProgressEvent("done", "", ok=not progress.errors))
            self._progress_changed()

    def action_cancel_action(self) -> None:
        """Cancel the running action once confirmed. Cancelling its worker is what Ctrl-C does
        headless: the run stops at its next await (between API calls, a helm it started is
        killed), the runner journals `cancelled` with the step, and a rerun finishes the job."""
        if not self._cancellable():
            return
        plan = self.dashboard.query_one(ActionProgress).plan
        name = plan.action if plan else "the action"

        def confirmed(go: bool | None) -> None:
            if go and self._cancellable() and self._action_worker is not None:
                self._action_worker.cancel()

        self.push_screen(ConfirmDialog.cancel_run(name, plan.cluster if plan else ""), confirmed)

    def _progress_changed(self) -> None:
        # The walkthrough covers the progress panel: it shows a one-line summary of the run.
        if isinstance(self.screen, WalkthroughScreen):
            self.screen.show_progress(self.dashboard.query_one(ActionProgress))

    async def action_quit(self) -> None:
        # Quitting kills the run's worker mid-step; ask once (the journal lets a rerun resume).
        if self.dashboard.is_mounted and self.dashboard.query_one(ActionProgress).running \
                and not self._quit_armed:
            self._quit_armed = True
            self.notify("An action is still running. Press c to cancel it at a safe point, or q again to quit "
                        "anyway; rerunning the action finishes the job.", severity="warning", timeout=10, markup=False)
            return
        self.exit()

    def action_close_progress(self) -> None:
        progress = self.dashboard.query_one(ActionProgress)
        if not progress.running:
            progress.display = False


# -- the factory shared by the command line and the tests (what it wires: iagent_tui/wiring.py) --
def build_app(settings: Any, connection: Any, *, source: SnapshotSource | None = None,
              actions: Iterable[Action] | None = None, run_action: RunAction | None = None,
              keymap: Mapping[str, str] | None = None, sandbox: bool = False) -> IagentApp:
    """The dashboard for a Connection, wired by iagent_tui.wiring.wire_dashboard."""
    wiring = wire_dashboard(settings, connection, source=source, actions=actions, run_action=run_action,
                            keymap=keymap, sandbox=sandbox)
    return IagentApp(**wiring.app_options())


def run_dashboard(settings: Any, connection: Any, *, sandbox_info: Any = None,
                  actions: Iterable[Action] | None = None, run_action: RunAction | None = None,
                  badge: str = "") -> int:
    """Open the dashboard and block until the user quits. Returns the process exit code."""
    sandbox = sandbox_info is not None or badge == "SANDBOX"
    app = build_app(settings, connection, actions=actions, run_action=run_action, sandbox=sandbox)
    if sandbox:
        app.badge = "SANDBOX"  # never mistake the local twin for a real cluster
    app.run()
    return app.return_code or 0
