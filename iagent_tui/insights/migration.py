"""Where the cluster stands in the brief's migration (BRIEF.md "Migration Strategy"), step by step,
computed from one Snapshot: each step's state and the evidence behind it.

Pure functions, no Textual: ``assess`` puts what ``migration_steps`` returns in the Assessment,
the walkthrough screen renders it, the tests feed it fixed snapshots. A step is "done" only on evidence read from the cluster (never
because an action said it finished); "blocked" means its action cannot advance it as things are
(a failed resource, an earlier step missing, errors to fix first) and the evidence says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from typing import TYPE_CHECKING

from ..model import FargateProfile, Pod, Snapshot
from .durations import duration
from .finding import SEVERITY_RANK
from .profiles import wildcard_match
from .startup import nearest_rank

if TYPE_CHECKING:
    from .assessment import Assessment

State = Literal["done", "in progress", "to do", "blocked"]
Tone = Literal["ok", "warn", "bad", "busy", "muted", ""]  # how alarming an evidence line is
Line = tuple[str, Tone]

STATE_TONES: dict[str, Tone] = {"done": "ok", "in progress": "busy", "to do": "", "blocked": "bad"}
SAMPLE_NAMESPACE, SAMPLE_LABEL = "default", ("app.kubernetes.io/name", "iagent-sample")
LBC_NAMESPACE, LBC_NAME = "kube-system", "aws-load-balancer-controller"
FAILED_PROFILE = ("CREATE_FAILED", "DELETE_FAILED")
MAX_LISTED = 4  # findings / diagnoses named in a step; enter shows them all


@dataclass(frozen=True)
class Step:
    number: int
    id: str
    title: str
    state: State
    evidence: tuple[Line, ...]
    action: str = ""      # the App action that advances it ("deploy", "smoke", "add-namespace")
    suggestion: str = ""  # add-namespace: the namespace to offer first

    @property
    def done(self) -> bool:
        return self.state == "done"


def _live(pods: Sequence[Pod]) -> list[Pod]:
    return [p for p in pods if p.phase not in ("Succeeded", "Failed")]


def _placement(pods: Sequence[Pod]) -> str:
    fargate = [p for p in pods if p.compute_type == "fargate"]
    ec2 = [p for p in pods if p.compute_type == "ec2"]
    pending = [p for p in pods if not p.node]
    text = (f"{len(fargate)} on Fargate ({sum(p.ready for p in fargate)} ready), "
            f"{len(ec2)} on EC2 ({sum(p.ready for p in ec2)} ready)")
    return text + (f", {len(pending)} pending" if pending else "")


def counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {sev}{'s' if n != 1 and sev != 'info' else ''}" for sev, n in counts.items())


def _stale(snap: Snapshot, *names: str) -> list[Line]:
    return [(f"could not read {s.name}: {s.error or 'no data'} (showing the last data read)", "warn")
            for name in names if (s := snap.sources.get(name)) is not None and not s.ok]


def _selects(profile: FargateProfile, namespace: str) -> bool:
    return any(wildcard_match(s.namespace, namespace) for s in profile.selectors)


# -- 1. inventory -------------------------------------------------------------------------------
def inventory(snap: Snapshot, derived: "Assessment") -> Step:
    kinds: dict[str, int] = {}
    for w in snap.workloads:
        kinds[w.kind] = kinds.get(w.kind, 0) + 1
    namespaces = sorted({w.namespace for w in snap.workloads})
    static = [f for f in derived.findings if f.category != "broken"]  # what the specs say; step 7 has the rest
    counts = {sev: sum(1 for f in static if f.severity == sev) for sev in SEVERITY_RANK}
    evidence: list[Line] = [
        (f"{len(snap.workloads)} workloads (" + (", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none")
         + f") in {len(namespaces)} namespaces: " + (", ".join(namespaces) or "-"), ""),
        ("findings: " + counted(counts) + " (enter lists them)",
         "bad" if counts["error"] else "warn" if counts["warning"] else "ok"),
    ]
    worst = sorted(static, key=lambda f: (SEVERITY_RANK[f.severity], f.code, f.object))
    for f in [f for f in worst if f.severity == "error"][:MAX_LISTED]:
        evidence.append((f"  {f.code} {f.object}: {f.title}", "bad"))
    if counts["error"]:
        evidence.append((f"{counts['error']} error finding(s): those workloads cannot move as they are "
                         "(they stay on EC2 or need the fix shown)", "muted"))
    stale = _stale(snap, "deployments", "daemonsets", "statefulsets")
    unread = bool(stale) and not snap.workloads
    return Step(1, "inventory", "Inventory workloads and what blocks a move", "blocked" if unread else "done",
                tuple(stale + evidence))


# -- 2. pod execution role and profiles ------------------------------------------------------------
def profiles_step(snap: Snapshot, derived: "Assessment", planned: Sequence[str]) -> Step:
    evidence: list[Line] = []
    roles = sorted({p.pod_execution_role_arn for p in snap.profiles if p.pod_execution_role_arn})
    trust_problems = [f for f in derived.findings if f.code in ("FG021", "FG022")]
    if not roles:
        evidence.append(("pod execution role: none in use yet (no Fargate profile)", "muted"))
    for arn in roles:
        evidence.append((f"pod execution role {arn.rsplit('/', 1)[-1]}", ""))
    for f in trust_problems:
        evidence.append((f"  {f.code} {f.object}: {f.title}", "bad" if f.severity == "error" else "warn"))
    active, moving, failed = [], [], []
    for namespace in planned:
        mine = [p for p in snap.profiles if _selects(p, namespace)]
        if not mine:
            evidence.append((f"namespace {namespace}: no Fargate profile", ""))
            continue
        best = next((p for p in mine if p.status == "ACTIVE"), mine[0])
        tone: Tone = {"ACTIVE": "ok", "CREATING": "busy", "DELETING": "busy"}.get(best.status, "bad")
        issues = "; ".join(f"{i.code}: {i.message}" for i in best.health_issues)
        evidence.append((f"namespace {namespace}: profile {best.name} {best.status}" + (f" ({issues})" if issues else ""),
                         tone))
        (active if best.status == "ACTIVE" else moving if best.in_transition else failed).append(namespace)
    evidence += _stale(snap, "fargate_profiles", "iam_roles")
    if failed:
        state: State = "blocked"
        evidence.append(("a failed profile must be deleted before deploy can create it again", "bad"))
    elif any(f.code == "FG021" for f in trust_problems) and not moving:
        state = "to do"  # deploy fixes the trust policy
    elif len(active) == len(planned):
        state = "done"
    elif moving:
        state = "in progress"
    else:
        state = "to do"
    return Step(2, "profiles", "Pod execution role and Fargate profiles", state, tuple(evidence), "deploy")


# -- 3. CoreDNS ----------------------------------------------------------------------------------
def coredns_step(snap: Snapshot) -> Step:
    addon = snap.addon("coredns")
    pods = _live(snap.coredns_pods())
    evidence: list[Line] = []
    if addon is None:
        evidence.append(("CoreDNS is not an EKS add-on: create it (aws eks create-addon --addon-name coredns), "
                         "then deploy can move it", "bad"))
        state: State = "blocked"
    else:
        fargate = addon.compute_type.lower() == "fargate"
        issues = "; ".join(f"{i.code}: {i.message}" for i in addon.health_issues)
        evidence.append((f"add-on {addon.version} {addon.status}, computeType {addon.compute_type or 'EC2 (default)'}"
                         + (f" ({issues})" if issues else ""),
                         "ok" if fargate and addon.status == "ACTIVE" else "bad" if "FAILED" in addon.status else ""))
        placed = bool(pods) and all(p.compute_type == "fargate" and p.ready for p in pods)
        if "FAILED" in addon.status:
            state = "blocked"
        elif fargate and addon.status == "ACTIVE" and placed:
            state = "done"
        elif fargate or addon.in_transition:
            state = "in progress"
        else:
            state = "to do"
    evidence.append((f"CoreDNS pods: {_placement(pods)}" if pods else "CoreDNS pods: none", ""))
    evidence += _stale(snap, "addons", "pods")
    return Step(3, "coredns", "CoreDNS on Fargate", state, tuple(evidence), "deploy")


# -- 4. load balancer controller -----------------------------------------------------------------
def controller_step(snap: Snapshot) -> Step:
    deployment = next((w for w in snap.workloads
                       if (w.kind, w.namespace, w.name) == ("Deployment", LBC_NAMESPACE, LBC_NAME)), None)
    pods = _live([p for p in snap.pods if p.namespace == LBC_NAMESPACE
                  and p.labels.get("app.kubernetes.io/name") == LBC_NAME])
    crashing = [p for p in pods if p.reason in ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull")]
    if deployment is None:
        evidence: list[Line] = [(f"Deployment {LBC_NAMESPACE}/{LBC_NAME}: not installed", "")]
        state: State = "to do"
    else:
        ready = deployment.ready >= deployment.replicas >= 1
        evidence = [(f"Deployment {LBC_NAMESPACE}/{LBC_NAME}: {deployment.ready}/{deployment.replicas} ready",
                     "ok" if ready else "busy")]
        state = "done" if ready else "blocked" if crashing else "in progress"
    if pods:
        evidence.append((f"controller pods: {_placement(pods)}", ""))
    for p in crashing:
        evidence.append((f"  {p.key}: {p.reason} (see its logs in the dashboard's pod view)", "bad"))
    evidence += _stale(snap, "deployments", "pods")
    return Step(4, "controller", "AWS Load Balancer Controller installed and ready", state, tuple(evidence), "deploy")


# -- 5. smoke test -------------------------------------------------------------------------------
def smoke_step(snap: Snapshot, infrastructure_ready: bool) -> Step:
    key, value = SAMPLE_LABEL
    pods = _live([p for p in snap.pods if _is_sample(p)])
    keys = {p.key for p in pods}
    targets = [t for tg in snap.target_groups for t in tg.targets if t.pod in keys]
    healthy = [t for t in targets if t.state == "healthy"]
    evidence: list[Line] = [
        (f"sample app pods ({SAMPLE_NAMESPACE}, {key}={value}): {_placement(pods)}" if pods
         else "sample app: not deployed", "ok" if pods and all(p.compute_type == "fargate" for p in pods) else ""),
        (f"ALB targets: {len(healthy)} healthy of {len(targets)}", "ok" if healthy else "muted"),
    ]
    on_fargate = bool(pods) and all(p.compute_type == "fargate" and p.ready for p in pods)
    if on_fargate and healthy:
        state: State = "done"
    elif pods:
        state = "in progress"
    elif not infrastructure_ready:
        state = "blocked"
        evidence.append(("needs steps 2-4 first: without profiles, CoreDNS and the controller the smoke test fails",
                         "muted"))
    else:
        state = "to do"
    evidence += _stale(snap, "pods", "target_groups")
    return Step(5, "smoke", "Sample app smoke test", state, tuple(evidence), "smoke")


# -- 6. move applications ------------------------------------------------------------------------
def _is_sample(pod: Pod) -> bool:
    key, value = SAMPLE_LABEL
    return pod.namespace == SAMPLE_NAMESPACE and pod.labels.get(key) == value


def _owner_workload(pod: Pod) -> str:
    if pod.owner_kind == "ReplicaSet":
        return f"Deployment/{pod.namespace}/{pod.owner_name.rsplit('-', 1)[0]}"
    return f"{pod.owner_kind}/{pod.namespace}/{pod.owner_name}" if pod.owner_kind else f"Pod/{pod.key}"


def move_step(snap: Snapshot, derived: "Assessment", planned: Sequence[str], profiles_ready: bool) -> Step:
    unmovable = {f.object for f in derived.findings if f.severity == "error" and f.category == "blocker"}
    evidence: list[Line] = []
    waiting: list[str] = []  # namespaces with movable pods off Fargate
    started = slow = False
    for namespace in planned:
        # The sample app is step 5's; the applications are everything else in the namespace.
        pods = _live([p for p in snap.pods if p.namespace == namespace and not _is_sample(p)])
        stay = [p for p in pods if _owner_workload(p) in unmovable]
        movable = [p for p in pods if p not in stay]
        off = [p for p in movable if p.compute_type != "fargate"]
        samples = [s.ready for p in movable if p.compute_type == "fargate"
                   and (s := derived.start.get(p.key)) is not None and s.ready is not None]
        p95 = nearest_rank(samples, 95) if samples else None
        line = f"{namespace}: {_placement(movable)}" if movable else f"{namespace}: no pods"
        if stay:
            line += f"; {len(stay)} cannot move (error findings)"
        if p95 is not None:
            over = p95 > derived.start_target
            slow = slow or over
            line += f"; start p95 {duration(p95)} {'over' if over else 'within'} the {duration(derived.start_target)} target"
        tone: Tone = "busy" if off and len(off) < len(movable) else "" if off else "ok" if movable else "muted"
        evidence.append((line, "bad" if p95 is not None and p95 > derived.start_target else tone))
        if off:
            waiting.append(namespace)
        started = started or any(p.compute_type == "fargate" for p in movable)
    if not profiles_ready and not started:
        state: State = "blocked"
        evidence.append(("needs step 2 first: add-namespace uses the pod execution role that deploy creates", "muted"))
    elif not waiting and not slow:
        state = "done"
    elif started:
        state = "in progress"
    else:
        state = "to do"
    if waiting:
        evidence.append((f"next: add-namespace {waiting[0]} (moves its workloads onto Fargate by a rolling update)", ""))
    evidence += _stale(snap, "pods")
    return Step(6, "move", "Move applications namespace by namespace", state, tuple(evidence), "add-namespace",
                suggestion=waiting[0] if waiting else "")


# -- 7. validate and monitor ---------------------------------------------------------------------
def validate_step(derived: "Assessment", earlier_done: bool) -> Step:
    broken = derived.by_category("broken")
    counts = {sev: sum(1 for f in broken if f.severity == sev) for sev in SEVERITY_RANK}
    errors = [f for f in broken if f.severity == "error"]
    evidence: list[Line] = [("broken now: " + counted(counts) + " (enter lists them; iagent-tui doctor shows the same)",
                             "bad" if errors else "warn" if counts["warning"] else "ok")]
    for f in errors[:MAX_LISTED]:
        evidence.append((f"  {f.code} {f.object}: {f.title}", "bad"))
    if derived.not_evaluated:
        evidence.append(("not evaluated: " + ", ".join(n.rule for n in derived.not_evaluated), "warn"))
    state: State = "blocked" if errors else "done" if earlier_done else "to do"
    return Step(7, "validate", "Validate and monitor", state, tuple(evidence))


def migration_steps(snap: Snapshot, derived: "Assessment", planned: Sequence[str]) -> list[Step]:
    first = inventory(snap, derived)
    profiles = profiles_step(snap, derived, planned)
    dns = coredns_step(snap)
    controller = controller_step(snap)
    smoke = smoke_step(snap, all(s.done for s in (profiles, dns, controller)))
    move = move_step(snap, derived, planned, profiles.done)
    steps = [first, profiles, dns, controller, smoke, move]
    return steps + [validate_step(derived, all(s.done for s in steps))]


def current_step(steps: Sequence[Step]) -> Step | None:
    """The first step not done: where the team is in the migration (None: all done)."""
    return next((s for s in steps if not s.done), None)
