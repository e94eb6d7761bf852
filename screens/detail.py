"""Detail view of one row: the object as YAML, its events, and for pods their logs, for targets the
pod behind them. Opened with enter from any panel; escape goes back."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from iagent_tui.model import Event, Pod, Snapshot

from iagent_tui.insights.assessment import Assessment
from .format import clock_time
from .rows import event_key

LogFetcher = Callable[[str, str], "str | Awaitable[str]"]


@dataclass(frozen=True)
class DetailSpec:
    title: str
    document: Any                      # what the YAML tab shows
    events: tuple[Event, ...] = ()
    pod: Pod | None = None             # logs are fetched for this pod
    pod_behind: bool = False           # targets: also show the pod (YAML and events) behind the IP
    pod_events: tuple[Event, ...] = ()
    history: tuple[str, str, str] | None = None  # (kind, namespace, name) whose full events to fetch


def _plain(value: Any) -> Any:
    """Dataclasses, read-only mappings and datetimes as plain YAML-able data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.name != "raw"}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def to_yaml(document: Any) -> str:
    return yaml.safe_dump(_plain(document), sort_keys=False, default_flow_style=False, width=120)


def _pod_document(pod: Pod) -> Any:
    return pod.raw if pod.raw else pod


def detail_for(panel: str, key: str, snap: Snapshot, assessment: Assessment) -> DetailSpec | None:
    """What to show for the row `key` of `panel`, or None when the row is gone."""
    if panel in ("pods", "coredns"):
        namespace, _, name = key.partition("/")
        pod = snap.pod(namespace, name)
        if pod is None:
            return None
        return DetailSpec(f"Pod {pod.key}", _pod_document(pod), snap.events_for("Pod", namespace, name), pod=pod,
                          history=("Pod", namespace, name))
    if panel == "profiles":
        profile = snap.profile(key)
        if profile is None:
            return None
        return DetailSpec(f"Fargate profile {profile.name}", profile.raw or profile)
    if panel == "nodes":
        node = snap.node(key)
        if node is None:
            return None
        return DetailSpec(f"Node {node.name}", node, snap.events_for("Node", "", node.name)
                          + snap.events_for("Node", "default", node.name), history=("Node", "", node.name))
    if panel == "targets":
        for tg in snap.target_groups:
            for target in tg.targets:
                if f"{tg.arn}|{target.id}:{target.port}" == key:
                    pod = None
                    if target.pod:
                        namespace, _, name = target.pod.partition("/")
                        pod = snap.pod(namespace, name)
                    document = {"targetGroup": {"name": tg.name, "arn": tg.arn, "loadBalancer": tg.lb_name,
                                                "targetType": tg.target_type}, "target": target}
                    pod_events = snap.events_for("Pod", pod.namespace, pod.name) if pod else ()
                    return DetailSpec(f"Target {target.id}:{target.port} in {tg.name}", document,
                                      pod=pod, pod_behind=pod is not None, pod_events=pod_events)
        return None
    if panel == "events":
        event = next((e for e in snap.events if event_key(e) == key), None)
        if event is None:
            return None
        return DetailSpec(f"Event {event.reason} on {event.kind} {event.namespace}/{event.name}",
                          event.raw or event)
    if panel == "findings":
        finding = next((f for f in assessment.findings if f.key == key), None)
        if finding is None:
            return None
        return DetailSpec(f"Finding {finding.code} on {finding.object}", finding.to_dict())
    return None


def events_text(events: tuple[Event, ...]) -> Text:
    if not events:
        return Text("No events recorded for this object.", end="")
    text = Text(end="")
    for e in sorted(events, key=lambda e: (e.last_seen is None, e.last_seen or datetime.min)):
        text.append(f"{clock_time(e.last_seen)}  {e.type:<7}  {e.reason:<18}  {e.component or '-':<18}  ")
        text.append(f"{e.message}" + (f" (x{e.count})" if e.count > 1 else "") + "\n")
    return text


class DetailScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="detail-back"),
                Binding("r", "reload_logs", "Reload logs", id="detail-reload-logs")]

    def __init__(self, spec: DetailSpec, fetch_logs: LogFetcher | None = None) -> None:
        super().__init__()
        self.spec = spec
        self.fetch_logs = fetch_logs

    def compose(self) -> ComposeResult:
        yield Static(Text(self.spec.title, style="bold", end=""), id="detail-title")
        with TabbedContent(id="detail-tabs"):
            with TabPane("YAML", id="tab-yaml"):
                with VerticalScroll():
                    yield Static(Text(to_yaml(self.spec.document), end=""), id="detail-yaml")
            if not self.spec.pod_behind:
                with TabPane("Events", id="tab-events"):
                    with VerticalScroll():
                        yield Static(events_text(self.spec.events), id="detail-events")
            if self.spec.pod is not None:
                if self.spec.pod_behind:
                    with TabPane("Pod behind", id="tab-pod"):
                        with VerticalScroll():
                            yield Static(Text(to_yaml(_pod_document(self.spec.pod)), end=""), id="detail-pod")
                            yield Static(events_text(self.spec.pod_events), id="detail-pod-events")
                with TabPane("Logs", id="tab-logs"):
                    with VerticalScroll():
                        yield Static("fetching logs…", id="detail-logs")
        yield Footer()

    def on_mount(self) -> None:
        if self.spec.pod is not None:
            self.action_reload_logs()
        # The snapshot holds only recent events; the object's whole history comes from the API
        # (the log source's `events`, when it has one), replacing the recent ones once read.
        fetch = getattr(self.fetch_logs, "events", None)
        if self.spec.history is not None and fetch is not None and not self.spec.pod_behind:
            self.run_worker(self._load_history(fetch), group="detail-events", exclusive=True,
                            exit_on_error=False, description=f"event history of {self.spec.title}")

    async def _load_history(self, fetch) -> None:
        kind, namespace, name = self.spec.history
        try:
            events = await fetch(kind, namespace, name)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the recent events stay on screen
            return
        if events:
            self.query_one("#detail-events", Static).update(events_text(tuple(events)))

    def action_reload_logs(self) -> None:
        if self.spec.pod is None:
            return
        # Owned by this screen on purpose: logs are only wanted while the view is open.
        self.run_worker(self._load_logs(self.spec.pod), group="detail-logs", exclusive=True,
                        exit_on_error=False, description=f"logs of {self.spec.pod.key}")

    async def _load_logs(self, pod: Pod) -> None:
        logs = self.query_one("#detail-logs", Static)
        if self.fetch_logs is None:
            logs.update("Logs are not available: no log source was given to the dashboard.")
            return
        try:
            result = self.fetch_logs(pod.namespace, pod.name)
            if inspect.isawaitable(result):
                result = await result
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is shown in the view, not raised
            logs.update(Text(f"Could not fetch logs of {pod.key}: {exc}", end=""))
            return
        logs.update(Text(result or "(no log lines)", end=""))
        logs.parent.scroll_end(animate=False)  # newest lines are at the bottom, like kubectl logs
