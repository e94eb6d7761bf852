"""The TargetGroupBinding half of the load balancer controller: which targets a binding's target
group should hold, registering and deregistering them in moto, their health over time (published
through AwsSandbox so DescribeTargetHealth shows it) and the pod readiness gates that mirror it.

ip targets are the service's pods (ready and not yet ready, as LBC registers them) on the pod port;
instance targets are the cluster's EC2 nodes on the service's NodePort (Fargate nodes never: LBC's
default node selector excludes ``eks.amazonaws.com/compute-type=fargate``, DOMAIN.md 6.3). A health
check gets what the app behind the target would answer at the health-check path.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clock import rfc3339
from ..kube.resources import rt
from ..kube.selectors import parse_label_selector
from .alb import app_response
from .lbc_health import Probe, TargetEntry, TargetHealth, response_code_mismatch, target_registry
from .lbc_log import controller_log
from .lbc_model import READINESS_GATE_PREFIX, HealthCheck

PODS, NODES, SERVICES = rt("pods"), rt("nodes"), rt("services")
REGISTRATION_SECONDS = (8.0, 20.0)


@dataclass
class Binding:
    tg_arn: str
    tgb_name: str
    namespace: str
    service: str
    service_port: str          # IntOrString text from the ingress backend
    target_type: str
    health: HealthCheck
    deregistration_delay: int


def _condition(obj: dict, ctype: str) -> dict | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def _is_true(obj: dict, ctype: str) -> bool:
    cond = _condition(obj, ctype)
    return bool(cond and cond.get("status") == "True")


def _service_port(service: dict, port_text: str) -> dict | None:
    for sp in (service.get("spec") or {}).get("ports") or []:
        if str(sp.get("port")) == port_text or sp.get("name") == port_text:
            return sp
    return None


def _pod_port(pod: dict, target_port) -> int | None:
    if isinstance(target_port, int):
        return target_port
    if isinstance(target_port, str) and target_port.isdigit():
        return int(target_port)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target_port:
                return int(port["containerPort"])
    return None


def service_pods(store, service: dict) -> list[dict]:
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector:
        return []
    text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    pods = store.scan(PODS, service["metadata"]["namespace"], label_selector=text)
    return pods


def _serving(pod: dict) -> bool:
    return ((pod.get("status") or {}).get("phase") == "Running"
            and not pod["metadata"].get("deletionTimestamp"))


def probe_pod(pod: dict | None, health: HealthCheck) -> Probe:
    """What a health check against the pod's IP gets. Container readiness (not pod Ready, which
    itself may wait on the readiness gate this health feeds) says whether the app answers."""
    if pod is None or not _serving(pod):
        return Probe.failing("Target.FailedHealthChecks")
    code = app_response(pod, health.path)[0]
    ready = _condition(pod, "ContainersReady") or _condition(pod, "Ready")
    if code == 200 and not (ready and ready.get("status") == "True"):
        return Probe.failing("Target.Timeout")   # still starting: nothing answers yet
    if health.matches(code):
        return Probe.passing()
    return Probe.failing(*response_code_mismatch(code))


def probe_instance(pods: list[dict], health: HealthCheck) -> Probe:
    """A NodePort health check reaches any ready pod of the service through kube-proxy."""
    serving = [p for p in pods if _serving(p) and _is_true(p, "Ready")]
    if not serving:
        return Probe.failing("Target.Timeout")
    return probe_pod(serving[0], health)


class TargetSync:
    """Keeps one controller's bindings' targets in moto, in AwsSandbox's health view and in pods'
    readiness-gate conditions."""

    def __init__(self, world, elbv2) -> None:
        self.world = world
        self.elbv2 = elbv2
        self.registry = target_registry(world)
        self._published: dict[tuple[str, str, int], tuple] = {}
        self._registrations = 0

    # -- desired targets -------------------------------------------------------------------------
    def desired(self, binding: Binding) -> dict[tuple[str, int], tuple[Probe, tuple[tuple[str, str], ...]]]:
        store = self.world.store
        service = store.get(SERVICES, binding.namespace, binding.service)
        if service is None:
            return {}
        sp = _service_port(service, binding.service_port)
        if sp is None:
            return {}
        pods = [p for p in service_pods(store, service)
                if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
                and not p["metadata"].get("deletionTimestamp")]
        wanted = {}
        if binding.target_type == "ip":
            for pod in pods:
                ip = (pod.get("status") or {}).get("podIP")
                port = _pod_port(pod, sp.get("targetPort", sp.get("port")))
                if ip and port:
                    ref = ((pod["metadata"]["namespace"], pod["metadata"]["name"]),)
                    wanted[(ip, port)] = (probe_pod(pod, binding.health), ref)
        else:
            node_port = sp.get("nodePort")
            if not node_port:
                return {}
            probe = probe_instance(pods, binding.health)
            refs = tuple((p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods)
            nodes, _ = store.list(NODES)
            for node in nodes:
                labels = node["metadata"].get("labels") or {}
                if labels.get("eks.amazonaws.com/compute-type") == "fargate" or \
                        "node.kubernetes.io/exclude-from-external-load-balancers" in labels:
                    continue
                instance_id = node["spec"].get("providerID", "").rsplit("/", 1)[-1]
                if instance_id.startswith("i-") and _is_true(node, "Ready"):
                    wanted[(instance_id, int(node_port))] = (probe, refs)
        return wanted

    # -- sync ------------------------------------------------------------------------------------
    def sync(self, binding: Binding, manage: bool = True) -> float | None:
        """Register/deregister (``manage``: the controller is running) and advance health, which
        ELB keeps checking whether or not the controller runs. Returns simulated seconds to the
        next change."""
        clock = self.world.clock
        now = clock.elapsed()
        entries = self.registry.setdefault(binding.tg_arn, {})
        wanted = self.desired(binding)
        new = [key for key in wanted if key not in entries] if manage else []
        if new:
            targets = [{"Id": i, "Port": p} for i, p in new]
            controller_log(self.world, "info", "registering targets", arn=binding.tg_arn, targets=targets)
            self.elbv2.register_targets(TargetGroupArn=binding.tg_arn, Targets=targets)
            controller_log(self.world, "info", "registered targets", arn=binding.tg_arn)
        for key in new:
            # Keyed by the binding and registration order, which a seed reproduces (target group
            # ARNs and instance ids come from moto, which is not seeded).
            self._registrations += 1
            delay = clock.draw(f"lbc:register:{binding.namespace}/{binding.tgb_name}:{self._registrations}",
                               *REGISTRATION_SECONDS)
            entries[key] = TargetEntry(key[0], key[1], TargetHealth(
                registered_at=now, checks_start=now + delay, interval=binding.health.interval,
                healthy_threshold=binding.health.healthy_threshold,
                unhealthy_threshold=binding.health.unhealthy_threshold))
        next_times = []
        for key, entry in list(entries.items()):
            if key in wanted:
                probe, refs = wanted[key]
                entry.pods = refs
                if entry.health.draining_until is None:
                    entry.health.observe(probe, now)
            elif manage:
                if entry.health.draining_until is None:
                    controller_log(self.world, "info", "deRegistering targets", arn=binding.tg_arn,
                                   targets=[{"Id": entry.target_id, "Port": entry.port}])
                entry.health.start_draining(now, binding.deregistration_delay)
            elif entry.health.draining_until is None:
                # Nobody deregisters it: ELB keeps probing an address where nothing answers.
                entry.health.observe(Probe.failing("Target.Timeout"), now)
            if entry.health.gone(now):
                self._remove(binding, entry)
                del entries[key]
                continue
            entry.health.advance(now)
            self._publish(binding, entry)
            nxt = entry.health.next_change(now)
            if nxt is not None:
                next_times.append(nxt)
        self._update_readiness_gates(binding, entries)
        return max(0.0, min(next_times) - now) if next_times else None

    def forget(self, binding: Binding) -> None:
        """The binding is gone (ingress deleted): its target group goes with it."""
        for entry in self.registry.pop(binding.tg_arn, {}).values():
            self._clear(binding, entry)

    def _publish(self, binding: Binding, entry: TargetEntry) -> None:
        """Tell AwsSandbox what DescribeTargetHealth shows, when it changed."""
        h = entry.health
        shown = (h.state, h.reason, h.description)
        if self._published.get((binding.tg_arn, entry.target_id, entry.port)) != shown:
            self._published[(binding.tg_arn, entry.target_id, entry.port)] = shown
            self.world.aws.set_target_health(binding.tg_arn, entry.target_id, entry.port, *shown)

    def _clear(self, binding: Binding, entry: TargetEntry) -> None:
        self._published.pop((binding.tg_arn, entry.target_id, entry.port), None)
        self.world.aws.clear_target(binding.tg_arn, entry.target_id, entry.port)

    def _remove(self, binding: Binding, entry: TargetEntry) -> None:
        try:
            self.elbv2.deregister_targets(TargetGroupArn=binding.tg_arn,
                                          Targets=[{"Id": entry.target_id, "Port": entry.port}])
        except self.elbv2.exceptions.ClientError:
            pass   # already gone with its target group
        self._clear(binding, entry)

    # -- readiness gates -------------------------------------------------------------------------
    def _update_readiness_gates(self, binding: Binding, entries: dict) -> None:
        if binding.target_type != "ip":
            return
        store = self.world.store
        gate = READINESS_GATE_PREFIX + binding.tgb_name
        now = rfc3339(self.world.clock.now())
        for entry in entries.values():
            for ns, name in entry.pods:
                pod = store.get(PODS, ns, name)
                if pod is None or not any(g.get("conditionType") == gate
                                          for g in (pod.get("spec") or {}).get("readinessGates") or []):
                    continue
                h = entry.health
                value = "True" if h.state == "healthy" else "False"
                current = _condition(pod, gate)
                if current and current.get("status") == value and current.get("reason") == h.reason:
                    continue

                def set_gate(obj: dict, h=h, value=value) -> None:
                    conditions = obj.setdefault("status", {}).setdefault("conditions", [])
                    cond = next((c for c in conditions if c.get("type") == gate), None)
                    if cond is None:
                        cond = {"type": gate}
                        conditions.append(cond)
                    if cond.get("status") != value:
                        cond["lastTransitionTime"] = now
                    cond.update({"status": value, "lastProbeTime": None})
                    for field, text in (("reason", h.reason), ("message", h.description)):
                        if text:
                            cond[field] = text
                        else:
                            cond.pop(field, None)
                store.mutate(PODS, ns, name, set_gate, status=True)


def readiness_gate_for(store, pod: dict, bindings: list[Binding]) -> list[str]:
    """Gate condition types the LBC webhook injects into a new pod (DOMAIN.md 6.5): ip bindings in
    the pod's namespace whose service selects the pod."""
    labels = pod["metadata"].get("labels") or {}
    gates = []
    for binding in bindings:
        if binding.target_type != "ip" or binding.namespace != pod["metadata"].get("namespace"):
            continue
        service = store.get(SERVICES, binding.namespace, binding.service)
        selector = (service or {}).get("spec", {}).get("selector") or {}
        if selector and parse_label_selector(",".join(f"{k}={v}" for k, v in selector.items())).matches(labels):
            gates.append(READINESS_GATE_PREFIX + binding.tgb_name)
    return gates
