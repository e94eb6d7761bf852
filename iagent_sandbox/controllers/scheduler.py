"""The default kube-scheduler, for pods that no Fargate profile claimed (schedulerName
default-scheduler): filter nodes like the default plugins do, bind to the least allocated fit, or
leave the pod Pending with the scheduler's own FailedScheduling message.

Filter order per node follows the default plugin order (NodeUnschedulable, TaintToleration,
NodeAffinity, NodeResourcesFit); a node is counted under the first plugin that rejects it, and
NodeResourcesFit reports every resource that is short, as kube-scheduler does. Message format is
``FitError.Error()`` (pkg/scheduler/framework/types.go): reasons "N <reason>" sorted as strings,
then the preemption post-filter summary. Preemption itself is not simulated: nodes rejected for
resources report "No preemption victims found for incoming pod", the rest "Preemption is not
helpful for scheduling" (what a cluster of equal-priority pods shows).

Unschedulable pods are retried when something that could make them fit changes: a node is added,
removed or modified, or a bound pod goes away or finishes (the scheduling queue's cluster events).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

from ..clock import parse_rfc3339, rfc3339
from . import kubeutil as ku

SCHEDULER_NAME = "default-scheduler"
NO_NODES = "no nodes available to schedule pods"
UNSCHEDULABLE_NODE = "node(s) were unschedulable"
AFFINITY_MISMATCH = "node(s) didn't match Pod's node affinity/selector"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
# The node lifecycle controller taints nodes that are not Ready; simulated nodes may not carry the
# taint, so a NotReady node is treated as if they did.
NOT_READY_TAINT = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}


def _quantity_int(value, parse) -> int:
    return parse(value) if value is not None else 0


# Built-in priority classes (the API server's Priority admission resolves them into spec.priority).
PRIORITY_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}


def pod_priority(spec: dict) -> int:
    # The class decides (the sandbox store defaults spec.priority to 0 without resolving it).
    if spec.get("priorityClassName") in PRIORITY_CLASSES:
        return PRIORITY_CLASSES[spec["priorityClassName"]]
    return spec["priority"] if isinstance(spec.get("priority"), int) else 0


def node_allocatable(node: dict) -> tuple[int, int, int]:
    status = node.get("status") or {}
    alloc = status.get("allocatable") or status.get("capacity") or {}
    pods = alloc.get("pods")
    return (_quantity_int(alloc.get("cpu"), ku.cpu_millicores),
            _quantity_int(alloc.get("memory"), ku.memory_bytes),
            int(pods) if pods is not None else 110)


def node_rejections(node: dict, spec: dict, used: tuple[int, int, int],
                    request: tuple[int, int]) -> tuple[list[str], bool]:
    """Why the pod cannot go on this node: (reasons, resolvable_by_preemption)."""
    tolerations = spec.get("tolerations") or []
    if (node.get("spec") or {}).get("unschedulable") and not any(
            ku.toleration_matches(t, {"key": "node.kubernetes.io/unschedulable",
                                      "effect": "NoSchedule"}) for t in tolerations):
        return [UNSCHEDULABLE_NODE], False
    taint = ku.untolerated_taint(node, tolerations)
    if taint is None and not ku.node_ready(node):
        taint = ku.untolerated_taint({"spec": {"taints": [NOT_READY_TAINT]}}, tolerations)
    if taint is not None:
        return [f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value') or ''}}}"], False
    if not ku.node_matches_pod(node, spec):
        return [AFFINITY_MISMATCH], False
    cpu_alloc, mem_alloc, pods_alloc = node_allocatable(node)
    used_cpu, used_mem, used_pods = used
    reasons = []
    if used_pods + 1 > pods_alloc:
        reasons.append("Too many pods")
    if request[0] and used_cpu + request[0] > cpu_alloc:
        reasons.append("Insufficient cpu")
    if request[1] and used_mem + request[1] > mem_alloc:
        reasons.append("Insufficient memory")
    return reasons, True


def fit_error(node_count: int, reasons: Counter, post: Counter) -> str:
    head = ", ".join(sorted(f"{count} {reason}" for reason, count in reasons.items()))
    tail = ", ".join(sorted(f"{count} {reason}" for reason, count in post.items()))
    return (f"0/{node_count} nodes are available: {head}. "
            f"preemption: 0/{node_count} nodes are available: {tail}.")


def _usage(pod: dict, pods: list[dict]) -> tuple[dict[str, list[int]], dict[str, list[dict]]]:
    usage: dict[str, list[int]] = {}
    by_node: dict[str, list[dict]] = {}
    for other in pods:
        node_name = other["spec"].get("nodeName")
        if not node_name or ku.is_finished(other) or other["metadata"]["uid"] == pod["metadata"]["uid"]:
            continue
        cpu, mem = ku.pod_requests(other["spec"])
        entry = usage.setdefault(node_name, [0, 0, 0])
        entry[0] += cpu
        entry[1] += mem
        entry[2] += 1
        by_node.setdefault(node_name, []).append(other)
    return usage, by_node


def victims_on(node: dict, pod: dict, node_pods: list[dict], used: tuple[int, int, int]) -> list[dict] | None:
    """The lower-priority pods whose removal lets ``pod`` fit (lowest priority, then newest,
    first — the default preemption's victim order), or None if no such set exists."""
    priority = pod_priority(pod["spec"])
    if pod["spec"].get("preemptionPolicy") == "Never" or priority <= 0:
        return None
    request = ku.pod_requests(pod["spec"])
    cpu, mem, count = used
    victims = []
    candidates = sorted((p for p in node_pods if pod_priority(p["spec"]) < priority and not ku.is_terminating(p)),
                        key=lambda p: (pod_priority(p["spec"]), _negated(p["metadata"].get("creationTimestamp", ""))))
    for victim in candidates:
        if not node_rejections(node, pod["spec"], (cpu, mem, count), request)[0]:
            break
        v_cpu, v_mem = ku.pod_requests(victim["spec"])
        cpu, mem, count = cpu - v_cpu, mem - v_mem, count - 1
        victims.append(victim)
    if node_rejections(node, pod["spec"], (cpu, mem, count), request)[0]:
        return None
    return victims


def _same_owner(pod: dict, other: dict) -> bool:
    mine, theirs = ku.controller_ref(pod), ku.controller_ref(other)
    return bool(mine and theirs and mine.get("uid") == theirs.get("uid"))


def _negated(text: str) -> tuple:
    return tuple(-ord(ch) for ch in text)


def schedule(pod: dict, nodes: list[dict], pods: list[dict]) -> tuple[dict | None, str, tuple[dict, list[dict]] | None]:
    """(node to bind to, "", None), or (None, the FailedScheduling message, preemption plan:
    (nominated node, victims) or None)."""
    if not nodes:
        return None, NO_NODES, None
    usage, by_node = _usage(pod, pods)
    request = ku.pod_requests(pod["spec"])
    reasons: Counter = Counter()
    post: Counter = Counter()
    fits: list[tuple[float, str, dict]] = []
    plans: list[tuple[int, str, dict, list[dict]]] = []
    for node in nodes:
        name = node["metadata"]["name"]
        used = tuple(usage.get(name, (0, 0, 0)))
        rejected, resolvable = node_rejections(node, pod["spec"], used, request)
        if rejected:
            reasons.update(rejected)
            victims = victims_on(node, pod, by_node.get(name, []), used) if resolvable else None
            if victims:
                plans.append((len(victims), name, node, victims))
            post[NOT_HELPFUL if not resolvable else NO_VICTIMS] += 1
            continue
        cpu_alloc, mem_alloc, _ = node_allocatable(node)
        # LeastAllocated scoring: prefer the node with the most room left after placing the pod,
        # and, like the default topology spreading, avoid nodes that already run its siblings.
        free = ((cpu_alloc - used[0] - request[0]) / max(cpu_alloc, 1)
                + (mem_alloc - used[1] - request[1]) / max(mem_alloc, 1))
        siblings = sum(1 for other in by_node.get(name, ()) if _same_owner(pod, other))
        fits.append((siblings - free, name, node))
    if fits:
        return min(fits, key=lambda f: (f[0], f[1]))[2], "", None
    if plans:
        # Preemption will make room: the event carries the filter reasons only.
        _, _, node, victims = min(plans, key=lambda p: (p[0], p[1]))
        head = ", ".join(sorted(f"{count} {reason}" for reason, count in reasons.items()))
        return None, f"0/{len(nodes)} nodes are available: {head}.", (node, victims)
    return None, fit_error(len(nodes), reasons, post), None


def choose_node(pod: dict, nodes: list[dict], pods: list[dict]) -> tuple[dict | None, str]:
    """(node to bind to, "") or (None, the FailedScheduling message)."""
    node, message, _ = schedule(pod, nodes, pods)
    return node, message


class DefaultScheduler:
    def __init__(self, world) -> None:
        self.world = world
        self.store = world.store
        self.queue = ku.WorkQueue()
        self.unschedulable: set[tuple[str, str]] = set()
        self.priority: dict[tuple[str, str], int] = {}
        self._node_shapes: dict[str, tuple] = {}
        self.pods = ku.PodCache()  # the scheduler cache: what is bound where
        self.nodes: dict[str, dict] = {}

    def _wants(self, pod: dict) -> bool:
        spec = pod.get("spec") or {}
        return (spec.get("schedulerName", SCHEDULER_NAME) == SCHEDULER_NAME
                and not spec.get("nodeName") and not ku.is_terminating(pod)
                and not ku.is_finished(pod))

    def _retry_unschedulable(self) -> None:
        # The scheduling queue pops by priority: node-critical daemons (kube-proxy, aws-node)
        # claim a newly joined node before ordinary workloads fill it.
        self.unschedulable_order = sorted(self.unschedulable, key=lambda k: (-self.priority.get(k, 0), k))
        for key in self.unschedulable_order:
            self.queue.add(key)

    def on_pod(self, event: str, pod: dict) -> None:
        self.pods.update(event, pod)
        key = ku.obj_key(pod)
        if event != "DELETED" and self._wants(pod):
            self.queue.add(key)
            return
        self.unschedulable.discard(key)
        if event == "DELETED" or ku.is_finished(pod) or ku.is_terminating(pod):
            if pod["spec"].get("nodeName"):
                self._retry_unschedulable()  # resources were freed

    def on_node(self, event: str, node: dict) -> None:
        name = node["metadata"]["name"]
        if event == "DELETED":
            self._node_shapes.pop(name, None)
            self.nodes.pop(name, None)
        else:
            self.nodes[name] = node
            # Status heartbeats must not trigger a retry storm; only what scheduling reads does.
            shape = (repr(node["metadata"].get("labels")), repr(node.get("spec")),
                     repr((node.get("status") or {}).get("allocatable")), ku.node_ready(node))
            if self._node_shapes.get(name) == shape:
                return
            self._node_shapes[name] = shape
        self._retry_unschedulable()

    def reconcile(self, key: tuple[str, str]) -> None:
        namespace, name = key
        pod = self.store.get(ku.PODS, namespace, name)
        if pod is None or not self._wants(pod):
            self.unschedulable.discard(key)
            return
        nodes = [self.nodes[n] for n in sorted(self.nodes)]
        node, message, plan = schedule(pod, nodes, self.pods.all())
        now = ku.now_text(self.world)
        if node is None and plan is not None:
            self._preempt(pod, *plan)
        if node is None:
            self.unschedulable.add(key)
            self.priority[key] = pod_priority(pod["spec"])
            self.store.mutate(ku.PODS, namespace, name, lambda p: ku.set_condition(
                p.setdefault("status", {}), "PodScheduled", "False", now, "Unschedulable", message,
                probe_time=True), status=True)
            self.store.record_event(pod, "FailedScheduling", message, type="Warning",
                                    component=SCHEDULER_NAME)
            return
        self.unschedulable.discard(key)
        self.priority.pop(key, None)
        bound = bind(self.world, pod, node["metadata"]["name"], SCHEDULER_NAME, at=self._bind_time(pod, node))
        if bound is not None:
            self.pods.update("MODIFIED", bound)  # assume it: the next pod must see the node's usage

    def _preempt(self, pod: dict, node: dict, victims: list[dict]) -> None:
        """Evict lower-priority pods so ``pod`` fits (kube-scheduler's DefaultPreemption); the pod
        is nominated to the node and scheduled when the victims have gone."""
        node_name = node["metadata"]["name"]
        for victim in victims:
            meta = victim["metadata"]
            self.store.record_event(victim, "Preempted", f"Preempted by pod {pod['metadata']['uid']} on node {node_name}",
                                    component=SCHEDULER_NAME)
            self.store.delete(ku.PODS, meta["namespace"], meta["name"])
        self.store.mutate(ku.PODS, pod["metadata"]["namespace"], pod["metadata"]["name"],
                          lambda p: p.setdefault("status", {}).__setitem__("nominatedNodeName", node_name),
                          status=True)

    def _bind_time(self, pod: dict, node: dict) -> datetime:
        """When the binding happened on the simulated timeline: right after the later of the
        pod's creation and the node becoming Ready (a lagging event loop at a fast clock would
        otherwise stretch every scheduling latency by its lag times the speed)."""
        since = [parse_rfc3339(pod["metadata"]["creationTimestamp"])]
        ready = ku.get_condition(node, "Ready") or {}
        if ready.get("lastTransitionTime"):
            since.append(parse_rfc3339(ready["lastTransitionTime"]))
        elif node["metadata"].get("creationTimestamp"):
            since.append(parse_rfc3339(node["metadata"]["creationTimestamp"]))
        latency = self.world.clock.draw(f"bind:{pod['metadata']['uid']}", 0.05, 0.8)
        return min(self.world.clock.now(), max(since) + timedelta(seconds=latency))

    async def run(self) -> None:
        await asyncio.gather(
            ku.informer(self.store, ku.NODES, self.on_node),
            ku.informer(self.store, ku.PODS, self.on_pod),
            ku.run_workers(self.queue, self.reconcile, "default-scheduler"),
        )


def bind(world, pod: dict, node_name: str, component: str, at: datetime | None = None) -> dict | None:
    """What POST pods/<name>/binding does: set spec.nodeName and PodScheduled True."""
    now = rfc3339(at) if at else ku.now_text(world)
    meta = pod["metadata"]

    def apply(p: dict) -> None:
        p["spec"]["nodeName"] = node_name
        ku.set_condition(p.setdefault("status", {}), "PodScheduled", "True", now, probe_time=True)

    bound = world.store.mutate(ku.PODS, meta["namespace"], meta["name"], apply)
    if bound is not None:
        ku.record_event_at(world.store, at, bound, "Scheduled",
                           f"Successfully assigned {meta['namespace']}/{meta['name']} to {node_name}",
                           component=component)
    return bound


async def run(world) -> None:
    await DefaultScheduler(world).run()
