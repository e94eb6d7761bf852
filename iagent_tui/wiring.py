"""What the dashboard is built from, without Textual: where snapshots come from, which actions it
offers and how they run (runner, journal, read-only gate), and where pod logs come from.

The App (iagent_tui/app.py) only consumes these. Keeping them here lets the command line and the
tests wire a dashboard (and check that wiring) without importing the UI, and keeps the service
layer's clients out of the App's module.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from actions.base import Action, Plan, ProgressEvent

from .model import Snapshot
from .port_forward import PortForward, PortForwards

if TYPE_CHECKING:
    from .kube_contexts import KubeContext

RunAction = Callable[[Action, Plan], AsyncIterator[ProgressEvent]]
# (namespace, pod name) -> log text; what a detail view calls (screens.detail.LogFetcher).
FetchLogs = Callable[[str, str], "str | Awaitable[str]"]


def default_run(action: Action, plan: Plan) -> AsyncIterator[ProgressEvent]:
    """Run an action without a runner (no journal, no lock): what tests and demos get."""
    return action.run(plan)


@dataclass(frozen=True)
class NamespaceActions:
    """How the dashboard builds add-namespace, the one action that needs input: ``check(name)``
    refuses a bad name before any call (raises ValueError with the sentence to show), and
    ``build(name, restart)`` makes the action once the name is accepted."""

    title: str
    check: Callable[[str], object]
    build: Callable[[str, bool], Action]


class ActionProvider(Protocol):
    """Actions whose clients must be opened on the App's event loop (they bind to the loop they
    are created on, and the command line builds the App before its loop runs). A provider may
    also offer add-namespace with ``namespace_actions() -> NamespaceActions`` (after open)."""

    async def open(self) -> tuple[list[Action], RunAction]: ...

    async def close(self) -> None: ...


class SnapshotSource(Protocol):
    """Where snapshots come from. iagent_tui.services.monitor.ClusterMonitor satisfies it."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def snapshots(self) -> AsyncIterator[Snapshot]:
        """Yields the latest snapshot each time there is a newer one (coalesced)."""
        ...


class StaticSource:
    """Snapshots handed in by code: fixed data for snapshot tests, demos, and `publish()` in
    Pilot tests to drive the dashboard through changes."""

    def __init__(self, *snapshots: Snapshot) -> None:
        self._latest: Snapshot | None = snapshots[-1] if snapshots else None
        self._changed: asyncio.Event | None = None

    async def start(self) -> None:
        self._changed = asyncio.Event()

    async def stop(self) -> None:
        return None

    def publish(self, snapshot: Snapshot) -> None:
        self._latest = snapshot
        if self._changed is not None:
            self._changed.set()

    async def snapshots(self) -> AsyncIterator[Snapshot]:
        if self._changed is None:
            await self.start()
        assert self._changed is not None
        seen: Snapshot | None = None
        while True:
            if self._latest is not None and self._latest is not seen:
                seen = self._latest
                yield seen
            self._changed.clear()
            if self._latest is seen:
                await self._changed.wait()


class PodLogs:
    """fetch_logs for detail views: the last lines of a pod's log through the service layer's
    Kubernetes client, opened lazily on the App's event loop (the client binds to the loop it is
    created on) and closed with the App. Failures surface as ServiceError, whose text is the
    sentence the detail view shows."""

    def __init__(self, connection: Any, tail_lines: int = 200) -> None:
        self.connection = connection
        self.tail_lines = tail_lines
        self._kube: Any = None

    async def __call__(self, namespace: str, name: str) -> str:
        from .services.kube import KubeClient

        if self._kube is None:
            self._kube = KubeClient(self.connection)
        return await self._kube.pod_logs(namespace, name, tail_lines=self.tail_lines)

    async def events(self, kind: str, namespace: str, name: str) -> list[Any]:
        """An object's full event history (model Events), for the detail view: snapshots keep
        only a recent window (services.event_window)."""
        from .services import convert
        from .services.kube import KubeClient

        if self._kube is None:
            self._kube = KubeClient(self.connection)
        raw = await self._kube.events_for(kind, namespace or None, name)
        return [convert.event_from_raw(item) for item in raw]

    async def close(self) -> None:
        if self._kube is not None:
            kube, self._kube = self._kube, None
            await kube.close()


class StandardActions:
    """The actions package's dashboard actions (deploy, smoke, rollback, and add-namespace once a
    name is typed) run through its ActionRunner (journal, read-only enforced in one place), with
    their ActionContext opened on the App's loop when the App starts and closed when it stops."""

    def __init__(self, settings: Any, connection: Any, sandbox: bool = False) -> None:
        self.settings = settings
        self.connection = connection
        self.sandbox = sandbox  # journaled with every run: was the target the local twin?
        self._context: Any = None
        self._ctx: Any = None

    async def open(self) -> tuple[list[Action], RunAction]:
        from actions import dashboard_actions
        from actions.context import open_context
        from actions.runner import ActionRunner

        self._context = open_context(self.settings, self.connection)
        ctx = self._ctx = await self._context.__aenter__()
        # No take-over hook: a lock left by a dead run is refused here with the message naming
        # --take-over-lock (a deliberate act, done from a shell where the holder can be checked).
        runner = ActionRunner.for_context(ctx, sandbox=self.sandbox)
        return list(dashboard_actions(ctx)), runner.run

    def namespace_actions(self) -> NamespaceActions:
        from actions.namespace import AddNamespaceAction

        return NamespaceActions(
            AddNamespaceAction.title,
            check=partial(AddNamespaceAction.check_names, self.settings),
            build=lambda namespace, restart: AddNamespaceAction(self._ctx, namespace, restart=restart))

    async def close(self) -> None:
        if self._context is not None:
            context, self._context = self._context, None
            await context.__aexit__(None, None, None)


@dataclass(frozen=True)
class DashboardWiring:
    """Everything IagentApp is built from, as its keyword arguments (``app_options()``)."""

    source: SnapshotSource
    actions: tuple[Action, ...] = ()
    run_action: RunAction | None = None
    action_provider: ActionProvider | None = None
    fetch_logs: FetchLogs | None = None
    pod_shell: "PodShell | None" = None
    journal_dir: Path | None = None
    read_only: bool = False
    start_target: float = 120.0
    rate_overrides: Mapping[str, Any] = field(default_factory=dict)
    keymap: Mapping[str, str] = field(default_factory=dict)
    planned_namespaces: tuple[str, ...] = ("default", "prod", "staging")
    headroom_percent: float = 20.0  # settings.rightsizing.headroom_percent
    context_switch: "ContextSwitch | None" = None
    port_forwards: "PortForwards | None" = None

    def app_options(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def wire_dashboard(settings: Any, connection: Any, *, source: SnapshotSource | None = None,
                   actions: Iterable[Action] | None = None, run_action: RunAction | None = None,
                   keymap: Mapping[str, str] | None = None, sandbox: bool = False) -> DashboardWiring:
    """The dashboard for a Connection: a ClusterMonitor as the source unless one is given, the
    standard actions unless the caller offers its own (no actions and no runner offered = the
    standard ones), pod logs through the Kubernetes service, and the keys of settings.keymap
    unless a keymap is given."""
    if source is None:
        from .services.monitor import ClusterMonitor
        source = ClusterMonitor(connection, settings)
    offered = tuple(actions or ())
    provider = StandardActions(settings, connection, sandbox) \
        if not offered and run_action is None and connection is not None else None
    return DashboardWiring(
        source, offered, run_action, provider, PodLogs(connection),
        pod_shell=PodShell.for_connection(settings, connection),
        journal_dir=Path(settings.journal_dir),
        read_only=bool(settings.read_only or getattr(connection, "read_only", False)),
        start_target=float(settings.startup_target_seconds),
        rate_overrides=settings.rate_overrides(),
        keymap=dict(keymap if keymap is not None else settings.keymap),
        planned_namespaces=tuple(settings.fargate.namespaces),
        headroom_percent=float(settings.rightsizing.headroom_percent),
        context_switch=ContextSwitch(settings, connection, sandbox) if connection is not None else None,
        port_forwards=PortForwards(PortForward.for_connection(settings, connection)))


class ContextSwitch:
    """The dashboard's context switcher (k9s `:ctx`): the kubeconfig's contexts, and the wiring
    for another one built the way the command line builds the first (``from_kubeconfig``, the
    standard monitor and actions), so switching needs no restart. The AWS side keeps the
    connection's endpoint and credentials; the region and the EKS cluster name come from the
    context when it names them (its ARN, server or exec args), else stay as they were."""

    def __init__(self, settings: Any, connection: Any, sandbox: bool = False,
                 make_source: Callable[[Any, Any], SnapshotSource] | None = None) -> None:
        self.settings = settings
        self.connection = connection
        self.sandbox = sandbox
        self.make_source = make_source  # tests poll faster; None = the standard ClusterMonitor

    @property
    def current(self) -> str:
        kube = getattr(self.connection, "kube", None)
        return self.settings.kube_context or getattr(kube, "context", "") or ""

    def contexts(self) -> list["KubeContext"]:
        from .kube_contexts import list_contexts
        from .services.connection import kubeconfig_path

        return list_contexts(kubeconfig_path(self.settings))

    async def wiring_for(self, name: str) -> DashboardWiring:
        """The dashboard for context ``name``; ServiceError (its sentence) when the kubeconfig
        cannot give a connection for it. Nothing is stopped here: the App swaps on success."""
        from dataclasses import replace as replace_target

        from .services.connection import from_kubeconfig
        from .services.errors import ServiceError

        chosen = next((c for c in self.contexts() if c.name == name), None)
        if chosen is None:
            raise ServiceError("invalid", f"The kubeconfig has no context {name!r} any more; "
                                          "check it with `kubectl config get-contexts`.")
        region = chosen.region or self.settings.region
        settings = self.settings.model_copy(update={
            "kube_context": name, "region": region, "cluster": chosen.eks_cluster or self.settings.cluster})
        aws = replace_target(self.connection.aws, region=region)
        connection = await from_kubeconfig(settings, aws)
        source = self.make_source(settings, connection) if self.make_source is not None else None
        wiring = wire_dashboard(settings, connection, source=source, sandbox=self.sandbox)
        if wiring.context_switch is not None:
            wiring.context_switch.make_source = self.make_source
        return wiring


class PodShell:
    """`kubectl exec -it` into a pod with the kubeconfig and context the dashboard reads, so the
    shell lands on the same cluster as the panels (never on kubectl's current context by chance)."""

    def __init__(self, kubeconfig: str | None = None, context: str | None = None, shell: str = "sh") -> None:
        self.kubeconfig = kubeconfig
        self.context = context
        self.shell = shell

    @classmethod
    def for_connection(cls, settings: Any, connection: Any) -> "PodShell":
        kube = getattr(connection, "kube", None)
        return cls(settings.kubeconfig, settings.kube_context or getattr(kube, "context", "") or None)

    def command(self, namespace: str, pod: str) -> list[str]:
        options = ([f"--kubeconfig={self.kubeconfig}"] if self.kubeconfig else []) \
            + ([f"--context={self.context}"] if self.context else [])
        return ["kubectl", *options, "exec", "-it", "-n", namespace, pod, "--", self.shell]
