"""Snapshot -> table rows, one pure function per panel.

A row is (key, cells). Keys are stable identities (a pod's namespace/name, a target's group and
id), so a panel can update rows in place between snapshots. A cell is plain text or (text, tone);
the table turns tones into theme colours. Nothing here parses markup: text from AWS and Kubernetes
stays literal all the way to the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass, field

from iagent_tui.model import Event, Node, Pod, Snapshot

from iagent_tui.insights.assessment import Assessment, StartTimes
from .format import Tone, age, clock_time, duration, money, short_node, tone_of

Cell = str | tuple[str, Tone]
Row = tuple[str, tuple[Cell, ...]]


@dataclass(frozen=True)
class View:
    """What the user narrowed the dashboard to: a namespace ("" = all), a filter text, and
    whether the Events panel shows only Warnings."""
    namespace: str = ""
    text: str = ""
    warnings_only: bool = False

    def namespace_ok(self, namespace: str) -> bool:
        return not self.namespace or namespace == self.namespace


def _status(text: str) -> Cell:
    return (text or "-", tone_of(text))


class RowMemo:
    """Rows of the last render, reused while what they show is the same: the same model objects
    (the monitor and the Assessor hand over the very same Pod and StartTimes while nothing
    changed) and equal plain values. A large cluster renders 5,000 pods on every snapshot, a few
    of them changed; building every row again was most of a render (26 ms, measured)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[tuple, tuple, Row]] = {}
        self._next: dict[str, tuple[tuple, tuple, Row]] = {}

    def row(self, key: str, objects: tuple, values: tuple, build: Callable[[], Row]) -> Row:
        hit = self._rows.get(key)
        if hit is None or hit[1] != values or any(a is not b for a, b in zip(hit[0], objects)):
            hit = (objects, values, build())
        self._next[key] = hit
        return hit[2]

    def done(self) -> None:
        """Forget the rows not rendered this time (gone, or filtered out)."""
        self._rows, self._next = self._next, {}


_POD_ROWS = RowMemo()
_NODE_ROWS = RowMemo()


def profile_rows(snap: Snapshot, assessment: Assessment, view: View) -> list[Row]:
    pods_per_profile: dict[str, int] = {}
    for pod in snap.pods:
        if pod.fargate_profile and pod.phase not in ("Succeeded", "Failed"):
            pods_per_profile[pod.fargate_profile] = pods_per_profile.get(pod.fargate_profile, 0) + 1
    rows = []
    for p in sorted(snap.profiles, key=lambda p: p.name):
        selectors = "; ".join(
            s.namespace + ("{" + ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())) + "}"
                           if s.labels else "")
            for s in p.selectors)
        cost = assessment.profile_cost.get(p.name)
        rows.append((p.name, (p.name, _status(p.status), age(p.status_since, snap.taken_at), selectors,
                              ", ".join(p.subnets), str(pods_per_profile.get(p.name, 0)), money(cost))))
    return rows


def _node_row(n: Node, node_age: str) -> Row:
    return (n.name, (short_node(n.name), (n.compute_type or "-", "ok" if n.compute_type == "fargate" else ""),
                     ("Ready", "ok") if n.ready else ("NotReady", "bad"), n.zone or "-",
                     n.instance_type or "-", node_age))


def node_rows(snap: Snapshot, assessment: Assessment, view: View) -> list[Row]:
    rows = []
    for n in sorted(snap.nodes, key=lambda n: (n.compute_type != "fargate", n.name)):
        node_age = age(n.created, snap.taken_at)
        rows.append(_NODE_ROWS.row(n.name, (n,), (node_age,), lambda: _node_row(n, node_age)))
    _NODE_ROWS.done()
    return rows


def node_counts(snap: Snapshot) -> str:
    fargate = sum(1 for n in snap.nodes if n.compute_type == "fargate")
    ec2 = sum(1 for n in snap.nodes if n.compute_type == "ec2")
    return f"Fargate {fargate} · EC2 {ec2}"


def coredns_rows(snap: Snapshot, assessment: Assessment, view: View) -> list[Row]:
    return [
        (p.key, (p.name, short_node(p.node), (p.compute_type or "-", "ok" if p.compute_type == "fargate" else ""),
                 ("ready", "ok") if p.ready else ("not ready", "warn"), _status(p.reason or p.phase)))
        for p in sorted(snap.coredns_pods(), key=lambda p: p.name)
    ]


def coredns_summary(snap: Snapshot) -> str:
    addon = snap.addon("coredns")
    if addon is None:
        return "add-on: not installed (self-managed CoreDNS)"
    compute = addon.compute_type or "EC2 (default)"
    issues = "; ".join(f"{i.code}: {i.message}" for i in addon.health_issues)
    return f"add-on {addon.version} {addon.status} · computeType {compute}" + (f" · {issues}" if issues else "")


def target_rows(snap: Snapshot, assessment: Assessment, view: View) -> list[Row]:
    rows = []
    for tg in sorted(snap.target_groups, key=lambda g: g.name):
        for t in sorted(tg.targets, key=lambda t: (t.id, t.port)):
            namespace = t.pod.split("/", 1)[0] if t.pod else ""
            if t.pod and not view.namespace_ok(namespace):
                continue
            rows.append((f"{tg.arn}|{t.id}:{t.port}",
                         (tg.lb_name or "-", tg.name, f"{t.id}:{t.port}", t.pod or "-", _status(t.state),
                          t.reason or "-", t.description or "-", age(t.since, snap.taken_at))))
    return rows


def healthy_targets(snap: Snapshot) -> int:
    return sum(1 for tg in snap.target_groups for t in tg.targets if t.state == "healthy")


def _start_cell(seconds: float | None, target: float) -> Cell:
    if seconds is None:
        return "-"
    return (duration(seconds), "ok" if seconds <= target else "bad")


def _pod_cost(key: str, assessment: Assessment) -> Cell:
    cost = assessment.pod_cost.get(key)
    if cost is None:
        return "-"
    if key in assessment.pod_cost_projected:
        return (f"~{money(cost)}", "muted")  # what it would cost on Fargate, from its requests
    return money(cost)



def _pod_row(p: Pod, start: StartTimes | None, assessment: Assessment) -> Row:
    return (p.key, (
        p.namespace, p.name,
        (p.compute_type or "-", "ok" if p.compute_type == "fargate" else ""),
        _status(p.reason or p.phase),
        duration(start.scheduled) if start else "-",
        duration(start.pull_seconds) if start and start.pull_seconds is not None else "-",
        _start_cell(start.ready, assessment.start_target) if start else "-",
        p.capacity_provisioned or "-",
        _pod_cost(p.key, assessment),
    ))


def pod_rows(snap: Snapshot, assessment: Assessment, view: View) -> list[Row]:
    rows = []
    for p in sorted(snap.pods, key=lambda p: (p.namespace, p.name)):
        if not view.namespace_ok(p.namespace):
            continue
        start = assessment.start.get(p.key)
        values = (assessment.pod_cost.get(p.key), p.key in assessment.pod_cost_projected, assessment.start_target)
        rows.append(_POD_ROWS.row(p.key, (p, start), values, lambda: _pod_row(p, start, assessment)))
    _POD_ROWS.done()
    return rows


# Event reasons an operator moving to Fargate cares about: scheduling, image pulls, target health.
_EVENT_REASONS = {"FailedScheduling", "Pulling", "Pulled", "ErrImagePull", "ImagePullBackOff", "Failed",
                  "BackOff", "LoggingEnabled", "LoggingDisabled", "SuccessfullyReconciled",
                  "FailedDeployModel", "FailedBuildModel", "BackendNotFound", "FailedNetworkReconcile"}
_EVENT_KINDS = {"TargetGroupBinding", "Ingress"}


def event_matters(e: Event) -> bool:
    return (e.component == "fargate-scheduler" or e.reason in _EVENT_REASONS or e.kind in _EVENT_KINDS
            or e.type == "Warning" or (e.namespace == "kube-system" and e.name.startswith("coredns")))


def event_key(e: Event) -> str:
    """An event object's identity: its uid when it has one (two events may share object, reason
    and message), else what it is about."""
    uid = ((e.raw or {}).get("metadata") or {}).get("uid", "")
    return uid or f"{e.namespace}/{e.kind}/{e.name}|{e.reason}|{e.message}"


MAX_EVENTS = 200  # newest first; older ones are in `kubectl get events`


def _newest_first(e: Event) -> tuple:
    # Undated events (none from a real API server) go last; ties break by identity, so the order
    # is the same on every snapshot.
    return (e.last_seen is None, -(e.last_seen.timestamp() if e.last_seen else 0), event_key(e))


_EVENT_ROWS: list = [None, None, None]  # [events tuple, (namespace, warnings_only), rows] of the last call


def event_rows(snap: Snapshot, assessment: Assessment, view: View) -> list[Row]:
    # The monitor hands over the same events tuple while no event changed; with 5,000 pods it
    # holds some 10,000 (their image pulls), and sorting them on every render was most of it.
    narrowed = (view.namespace, view.warnings_only)
    if _EVENT_ROWS[0] is snap.events and _EVENT_ROWS[1] == narrowed:
        return list(_EVENT_ROWS[2])
    rows = _event_rows(snap, view)
    _EVENT_ROWS[:] = [snap.events, narrowed, rows]
    return list(rows)


def _event_rows(snap: Snapshot, view: View) -> list[Row]:
    chosen = sorted((e for e in snap.events if event_matters(e) and view.namespace_ok(e.namespace)
                     and (e.type == "Warning" or not view.warnings_only)), key=_newest_first)
    rows = []
    for e in chosen[:MAX_EVENTS]:
        # A Warning is highlighted across its row, not only in its Type cell.
        tone: Tone = "warn" if e.type == "Warning" else ""
        message = f"{e.message} (x{e.count})" if e.count > 1 else e.message
        rows.append((event_key(e), ((clock_time(e.last_seen), tone), (e.type, tone_of(e.type)), (e.reason, tone),
                                    f"{e.kind}/{e.namespace}/{e.name}", e.component or "-", (message, tone))))
    return rows


def finding_rows(snap: Snapshot, assessment: Assessment, view: View) -> list[Row]:
    rows = []
    for f in assessment.findings:
        if f.namespace and not view.namespace_ok(f.namespace):
            continue
        rows.append((f.key,
                     ((f.severity, {"error": "bad", "warning": "warn"}.get(f.severity, "muted")),
                      f.category, f.code, f.object, f.title)))
    return rows


@dataclass(frozen=True)
class PanelSpec:
    id: str
    title: str
    columns: tuple[tuple[str, str], ...]  # (column key, header)
    sources: tuple[str, ...]             # Snapshot.sources names feeding this panel
    rows: Callable[[Snapshot, Assessment, View], list[Row]]
    # Column keys most important first: a narrow panel drops columns from the end of this list.
    priority: tuple[str, ...] = ()
    # Long free texts (messages, descriptions): shown cut with an ellipsis rather than dropped.
    flexible: frozenset[str] = frozenset()
    caps: Mapping[str, int] = field(default_factory=dict)  # widest a column grows before its text is cut


# Source names follow the monitor (iagent_tui.services.monitor): one per watch or AWS poll.
PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("profiles", "Fargate profiles",
              (("name", "Name"), ("status", "Status"), ("since", "In state"), ("selectors", "Selectors"),
               ("subnets", "Subnets"), ("pods", "Pods"), ("cost", "$/h")),
              ("fargate_profiles", "pods"), profile_rows,
              ("name", "status", "pods", "cost", "since", "selectors", "subnets"),
              frozenset({"selectors", "subnets"}), {"selectors": 40, "subnets": 30}),
    PanelSpec("nodes", "Nodes",
              (("name", "Name"), ("type", "Type"), ("ready", "Ready"), ("zone", "Zone"),
               ("instance", "Instance"), ("age", "Age")),
              ("nodes",), node_rows, ("name", "ready", "type", "age", "zone", "instance"),
              frozenset({"name"})),
    PanelSpec("coredns", "CoreDNS",
              (("pod", "Pod"), ("node", "Node"), ("compute", "Compute"), ("ready", "Ready"),
               ("status", "Status")),
              ("addons", "pods"), coredns_rows, ("pod", "ready", "status", "compute", "node"),
              frozenset({"pod", "status"}), {"status": 40}),
    PanelSpec("targets", "ALB target health",
              (("lb", "Load balancer"), ("tg", "Target group"), ("target", "Target"), ("pod", "Pod"),
               ("state", "State"), ("reason", "Reason"), ("description", "Description"),
               ("since", "In state")),
              ("load_balancers", "target_groups"), target_rows,
              ("target", "state", "reason", "pod", "since", "tg", "lb", "description"),
              frozenset({"description", "reason"}), {"lb": 28, "tg": 28, "reason": 32, "description": 60}),
    PanelSpec("pods", "Pods",
              (("namespace", "Namespace"), ("name", "Pod"), ("type", "Node type"), ("status", "Status"),
               ("scheduled", "Sched"), ("pull", "Pull"), ("ready", "Ready"), ("capacity", "Capacity"),
               ("cost", "$/h")),
              ("pods",), pod_rows,
              ("name", "status", "type", "ready", "namespace", "cost", "scheduled", "pull", "capacity"),
              frozenset({"name", "status"}), {"status": 32}),
    PanelSpec("events", "Events",
              (("time", "Last"), ("type", "Type"), ("reason", "Reason"), ("object", "Object"),
               ("from", "From"), ("message", "Message")),
              ("events",), event_rows, ("time", "reason", "message", "type", "object", "from"),
              frozenset({"message", "object"}), {"message": 160, "object": 48, "from": 20}),
    PanelSpec("findings", "Findings",
              (("severity", "Severity"), ("category", "Kind"), ("code", "Code"), ("object", "Object"),
               ("title", "Finding")),
              (), finding_rows, ("severity", "title", "object", "code", "category"),
              frozenset({"title", "object"}), {"title": 80}),
)
PANELS_BY_ID = {p.id: p for p in PANELS}


def cell_text(cell: Cell) -> str:
    return cell if isinstance(cell, str) else cell[0]


def filter_rows(rows: list[Row], text: str) -> list[Row]:
    """Rows where any cell contains the filter text (case-insensitive)."""
    if not text:
        return rows
    needle = text.casefold()
    return [r for r in rows if any(needle in cell_text(c).casefold() for c in r[1])]
