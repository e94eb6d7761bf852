"""The dashboard's on-call parts, kept out of app.py's core: the connecting screen at launch (progress
per source, retry, quit), the context switcher (k9s `:ctx`: another kubeconfig context, services
rebuilt without a restart) and port-forwards (k9s shift-f). A mixin of IagentApp: it uses the App's
source, dashboard, workers and notifications, and IagentApp's wiring fields."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from screens.connecting import ConnectingScreen
from screens.contexts import ContextSwitcher
from screens.keyed_table import tone_styles
from screens.port_forward import ForwardsScreen, PortForwardDialog
from screens.progress import ActionProgress

from iagent_tui.insights.assessment import Assessment

from .connecting import source_progress, unreachable
from .kube_contexts import KubeconfigError
from .port_forward import free_local_port
from .services.errors import ServiceError
from .wiring import DashboardWiring, PodShell, default_run

if TYPE_CHECKING:
    from .app import IagentApp as _Base
else:
    _Base = object


class OnCallMixin(_Base):
    # -- connecting: progress per source, retry, quit ---------------------------------------------
    def _show_connecting(self) -> None:
        """The connecting screen over the dashboard, for a source that reports progress (the
        monitor; fixed data needs none)."""
        if not source_progress(self.source) or isinstance(self.screen, ConnectingScreen):
            return
        kube = getattr(getattr(self.source, "connection", None), "kube", None)
        target = f"context {kube.context}  {kube.server}" if kube is not None else "the cluster"
        self.push_screen(ConnectingScreen(target, lambda: source_progress(self.source),
                                          tone_styles(self.theme_variables)))

    def connecting_verdict(self) -> None:
        """Leave the connecting screen once the latest snapshot read the cluster, or say why it
        could not. Called on each snapshot and when the screen mounts (the first snapshot can
        arrive before it is shown)."""
        snapshot = self.snapshot
        if not isinstance(self.screen, ConnectingScreen) or snapshot is None \
                or snapshot.version <= self._stale_version:
            return
        problem = unreachable(snapshot)
        if problem:
            self.screen.show_problem(problem)
        else:
            self.pop_screen()  # the dashboard catches up on this snapshot as it is shown

    def retry_connect(self) -> None:
        """Start the monitor again from nothing; the failed snapshot it still holds is no answer."""
        self._stale_version = self.snapshot.version if self.snapshot is not None else -1
        self.workers.cancel_group(self, "monitor")
        self.run_worker(self._restart_source(), group="monitor", exit_on_error=False,
                        description="follow cluster snapshots")

    async def _restart_source(self) -> None:
        await self.source.stop()
        await self._follow()

    def quit_connecting(self, problem: str) -> None:
        # Exit 1 when the cluster was never read: a script (or a user's shell) sees it failed.
        self.exit(return_code=1 if problem else 0, message=problem or None)

    # -- another context, port-forwards --------------------------------------------------------
    def action_switch_context(self) -> None:
        if self.screen is not self.dashboard and not isinstance(self.screen, ConnectingScreen):
            return
        if self.context_switch is None:
            self.notify("This dashboard was not opened from a kubeconfig: there is no other context to switch to.",
                        severity="warning", markup=False)
            return
        try:
            contexts = self.context_switch.contexts()
        except KubeconfigError as exc:
            self.notify(str(exc), severity="error", timeout=15, markup=False)
            return

        def chosen(name: str | None) -> None:
            if name:
                self.run_worker(self._switch_to(name), group="context", exclusive=True, exit_on_error=False,
                                description=f"switch to context {name}")
        self.push_screen(ContextSwitcher(contexts, self.context_switch.current), chosen)

    async def _switch_to(self, name: str) -> None:
        assert self.context_switch is not None
        if self.dashboard.query_one(ActionProgress).running:
            self.notify("An action is running on this cluster; wait for it (or cancel it with c) before switching.",
                        severity="warning", markup=False)
            return
        try:
            wiring = await self.context_switch.wiring_for(name)
        except ServiceError as err:
            self.notify(f"Staying on {self.context_switch.current or 'the current context'}: {err.message}",
                        title=f"Cannot switch to {name}", severity="error", timeout=20, markup=False)
            return
        await self.use_wiring(wiring)
        self.notify(f"Switched to context {name}.", markup=False)

    async def use_wiring(self, wiring: DashboardWiring) -> None:
        """Stop the old monitor and services, take the new ones, and start again with empty panels
        (the old cluster's rows must not linger under the new cluster's name)."""
        self.workers.cancel_group(self, "monitor")
        self.workers.cancel_group(self, "setup")
        await self._close_services()
        self.source = wiring.source
        self.actions = {a.name: a for a in wiring.actions}
        self.run_action_events = wiring.run_action or default_run
        self.action_provider = wiring.action_provider
        self.add_namespace = None
        self.fetch_logs = wiring.fetch_logs
        self.pod_shell = wiring.pod_shell or PodShell()
        self.context_switch = wiring.context_switch
        if wiring.port_forwards is not None:
            self.port_forwards.builder = wiring.port_forwards.builder  # running forwards stay until stopped
        self.read_only_flag = wiring.read_only
        self.snapshot = None
        self._to_derive = None  # the old cluster's snapshot is not to be derived any more
        self.feed_error = ""
        self.assessment = Assessment(start_target=self.assessment.start_target)
        self.dashboard.clear()
        self.refresh_bindings()
        self._stale_version = -1
        if isinstance(self.screen, ConnectingScreen):
            self.pop_screen()  # a new one names the new target
        self._show_connecting()
        self.run_worker(self._follow(), group="monitor", exit_on_error=False, description="follow cluster snapshots")
        if self.action_provider is not None:
            self.run_worker(self._open_actions(), group="setup", exit_on_error=False, description="prepare the actions")

    def selected_forward_target(self) -> tuple[str, str, str, list[str]] | None:
        """(kind, namespace, name, declared ports) for the Pods/CoreDNS row (the pod) or the ALB
        row (the Service its TargetGroupBinding names), or None after saying what to select."""
        focused = self.focused
        table_id = getattr(focused, "id", "") or ""
        key = focused.cursor_key() if table_id.startswith("table-") else None
        snap = self.snapshot
        if key and snap is not None and table_id in ("table-pods", "table-coredns"):
            namespace, _, name = key.partition("/")
            pod = snap.pod(namespace, name)
            ports = [str(p.container_port) for c in (pod.spec.containers if pod else ()) for p in c.ports]
            return "pod", namespace, name, list(dict.fromkeys(ports))
        if key and snap is not None and table_id == "table-targets":
            arn = key.split("|", 1)[0]
            binding = next((b for b in snap.tgbs if b.target_group_arn == arn), None)
            if binding is not None:
                return "service", binding.namespace, binding.service_name, [binding.service_port]
            self.notify("No TargetGroupBinding names a Service for that target group.", severity="warning",
                        markup=False)
            return None
        self.notify("Select a pod (Pods or CoreDNS panel) or a target (ALB panel) first.", severity="warning",
                    markup=False)
        return None

    def action_port_forward(self) -> None:
        target = self.selected_forward_target() if self.screen is self.dashboard else None
        if target is None:
            return
        kind, namespace, name, ports = target

        def chosen(choice: tuple[int, str] | None) -> None:
            if choice is not None:
                self.run_worker(self._start_forward(kind, namespace, name, *choice), group="port-forward",
                                exit_on_error=False, description=f"port-forward {kind}/{namespace}/{name}")
        self.push_screen(PortForwardDialog(f"{kind}/{namespace}/{name}", ports, free_local_port()), chosen)

    async def _start_forward(self, kind: str, namespace: str, name: str, local: int, remote: str) -> None:
        try:
            forward = await self.port_forwards.start(kind, namespace, name, local, remote)
        except (ValueError, OSError) as exc:
            self.notify(str(exc), title="Port-forward", severity="error", timeout=15, markup=False)
            return
        if forward is None:
            shown = shlex.join(self.port_forwards.builder.command(kind, namespace, name, local, remote))
            self.notify(f"kubectl is not on PATH; run it in a terminal:\n{shown}", title="Port-forward",
                        severity="warning", timeout=30, markup=False)
            return
        self.notify(f"Forwarding 127.0.0.1:{local} to {kind}/{namespace}/{name}:{remote} in the background; "
                    f"f lists the forwards.", title="Port-forward", markup=False)

    def action_list_forwards(self) -> None:
        if self.screen is self.dashboard:
            self.push_screen(ForwardsScreen(self.port_forwards))
