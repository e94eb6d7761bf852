"""Doctor rules about pods: why one is Pending (no profile, refused by fargate-scheduler, a broken
profile, provisioning timeouts), crash loops and image pulls, slow starts, pods left on EC2.

Facts: DOMAIN.md 3.5 (matching at creation only), 3.8 (exact event and condition texts), 5.2
(rejection clauses), 7 (start phases), 8.1 (pod execution role).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..model import Pod, PodSpec
from .cluster_checks import trusted_services
from .finding import Finding
from .doctor_model import Context, diagnosis, describe_selectors, failed_condition, edit_command, owner_label, restart_command, seconds
from .profiles import COMPUTE_TYPE_ANNOTATION, match_profile, matching_profiles
from .rejection import (
    MESSAGE_PREFIX,
    SUPPORTED_VOLUME_TYPES,
    UNSUPPORTED_REASON,
    host_fields,
    rejected_capabilities,
)
from .sizing import TOO_LARGE_REASON, pod_request
from .startup import pod_start_phases

FARGATE_PODS_PRINCIPAL = "eks-fargate-pods.amazonaws.com"
MISCONFIGURED_PREFIX = "Misconfigured Fargate Profile"
PROVISIONING_TIMEOUT = "Pod provisioning timed out"
_BLOCKED_PROFILE = re.compile(r"fargate profile (\S+) blocked")
IMAGE_PULL_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"})


def _unscheduled(pod: Pod) -> bool:
    return pod.phase == "Pending" and not pod.node and not pod.deleting


def _scheduler(pod: Pod) -> str:
    return pod.spec.scheduler_name or "default-scheduler"


def _scheduling_messages(ctx: Context, pod: Pod) -> list[tuple[str, str]]:
    """(evidence line, message) from the PodScheduled condition and FailedScheduling events, newest
    event first. The condition alone still works when events could not be read."""
    found = []
    scheduled = failed_condition(pod, "PodScheduled")
    if scheduled is not None:
        found.append((f"condition PodScheduled=False reason {scheduled.reason or '?'}: {scheduled.message}",
                      scheduled.message or scheduled.reason))
        if scheduled.reason == TOO_LARGE_REASON:
            found.append(("", TOO_LARGE_REASON))
    for event in ctx.pod_events(pod, "FailedScheduling"):
        found.append((f"event Warning FailedScheduling from {event.component or '?'} (x{event.count}): {event.message}", event.message))
    return found


# -- DR011: refused by fargate-scheduler ------------------------------------------------------------
def offending_fields(spec: PodSpec, message: str = "") -> list[str]:
    """The pod spec fields behind fargate-scheduler's rejection clauses, as paths with values."""
    fields = [f"spec.{name[0].lower()}{name[1:]}: true" for name in host_fields(spec)]
    containers = [("initContainers", c) for c in spec.init_containers]
    containers += [("containers", c) for c in spec.containers]
    for group, c in containers:
        where = f"spec.{group}[{c.name}]"
        if c.privileged:
            fields.append(f"{where}.securityContext.privileged: true")
        if rejected_capabilities(c):
            fields.append(f"{where}.securityContext.capabilities.add: {', '.join(rejected_capabilities(c))}")
        if "AllowPrivilegeEscalation" in message and c.allow_privilege_escalation:
            fields.append(f"{where}.securityContext.allowPrivilegeEscalation: true")
        for port in c.ports:
            if port.host_port > 0 or port.host_ip:
                fields.append(f"{where}.ports[{port.container_port}] hostPort/hostIP")
        if c.has_volume_devices:
            fields.append(f"{where}.volumeDevices")
    for volume in spec.volumes:
        kind, name = volume.type, volume.name
        if kind == "persistentVolumeClaim" and f"{name} not supported" in message:
            fields.append(f"spec.volumes[{name}].persistentVolumeClaim.claimName: {volume.claim_name or '?'}")
        elif kind not in SUPPORTED_VOLUME_TYPES and kind != "persistentVolumeClaim":
            fields.append(f"spec.volumes[{name}].{kind}")
    return fields


def pending_rejected(ctx: Context) -> Iterator[Finding]:
    """DR011: Pod not supported on Fargate / POD_CPU_MEM_EXCEEDS_MAX_FARGATE_SIZE."""
    for pod in filter(_unscheduled, ctx.snap.pods):
        messages = _scheduling_messages(ctx, pod)
        too_large = any(m == TOO_LARGE_REASON for _, m in messages)
        refusal = next((m for _, m in messages if m.startswith(MESSAGE_PREFIX)), "")
        scheduled = failed_condition(pod, "PodScheduled")
        if not refusal and not too_large and (scheduled.reason if scheduled else "") != UNSUPPORTED_REASON:
            continue
        spec = pod.spec
        fields = offending_fields(spec, refusal)
        if too_large:
            request = pod_request(spec)
            fields.append(f"requests {request.cpu_cores:g} vCPU / {request.memory_mib:g} MiB (+256 MiB) "
                          "exceed Fargate's largest size, 16 vCPU / 120 GB")
        evidence = [line for line, _ in messages if line] + [f"offending field {f}" for f in fields]
        fix = "; ".join(fields) or refusal.removeprefix(MESSAGE_PREFIX)
        yield diagnosis(
            "DR011", "error", "fargate-scheduler refuses the pod", owner_label(pod), (f"pod {pod.name}", *evidence),
            "A Fargate profile selects this pod, so it went to fargate-scheduler, which refused its spec. "
            "It stays Pending: no other scheduler takes it.",
            (f"Change the pod template ({fix}): {edit_command(pod)}",
             "Or keep it on EC2: move it to a namespace no Fargate profile selects (selectors cannot exclude pods)",
             # a bare pod's edit step already replaces it
             *((restart_command(pod),) if pod.owner_kind else ())),
            pod.namespace)


# -- DR010 / DR016: nobody schedules it --------------------------------------------------------------
def pending_unplaced(ctx: Context) -> Iterator[Finding]:
    """DR010: Pending with the default-scheduler and no ACTIVE profile selecting it.
    DR016: an ACTIVE profile selects it now, but the pod was created before (matching is at creation)."""
    for pod in filter(_unscheduled, ctx.snap.pods):
        if _scheduler(pod) == "fargate-scheduler":
            continue
        messages = [(line, m) for line, m in _scheduling_messages(ctx, pod) if line]
        if not messages or any(m.startswith((MESSAGE_PREFIX, MISCONFIGURED_PREFIX)) for _, m in messages):
            continue  # not tried yet, or another rule's case
        annotations = pod.annotations
        labels = pod.labels
        evidence = [f"pod {pod.name}", f"spec.schedulerName: {_scheduler(pod)}", *(line for line, _ in messages)]
        active = match_profile(pod.namespace, labels, ctx.snap.profiles, annotations=annotations)
        if active is not None:
            name = active.name
            yield diagnosis(
                "DR016", "error", "Pending pod predates the profile that selects it", owner_label(pod),
                (*evidence, f"Fargate profile {name} (ACTIVE) selects namespace {pod.namespace} now"),
                "Profiles are matched when a pod is created; this pod was created before an ACTIVE profile "
                "selected it, and fargate-scheduler does not pick up existing pods.",
                (restart_command(pod),), pod.namespace)
            continue
        profiles_text = "; ".join(f"{p.name} ({p.status}: {describe_selectors(p)})" for p in ctx.snap.profiles) or "none"
        evidence.append(f"Fargate profiles: {profiles_text}")
        if annotations.get(COMPUTE_TYPE_ANNOTATION) == "ec2":
            steps = (f"Add EC2 capacity: aws eks update-nodegroup-config --cluster-name {ctx.cluster} "
                     "--nodegroup-name <nodegroup> --scaling-config desiredSize=<n>",
                     f"Or remove the annotation {COMPUTE_TYPE_ANNOTATION}: ec2 from the pod template so a "
                     f"profile can select it: {edit_command(pod)}")
            why = f"The pod is annotated {COMPUTE_TYPE_ANNOTATION}: ec2, so Fargate never takes it, and no EC2 node has room."
        elif waiting := matching_profiles(pod.namespace, labels, ctx.snap.profiles, active_only=False):
            name = waiting[0].name
            steps = (ctx.wait_profile_command(name), restart_command(pod))
            why = f"Fargate profile {name} selects it but is {waiting[0].status}, not ACTIVE; until then it waits for an EC2 node."
        else:
            steps = (ctx.create_profile_command(f"fp-{pod.namespace}", pod.namespace),
                     ctx.wait_profile_command(f"fp-{pod.namespace}"), restart_command(pod))
            why = (f"No Fargate profile selects namespace {pod.namespace} with these labels, so the pod stays with "
                   "the default-scheduler, which finds no EC2 node for it.")
        yield diagnosis("DR010", "error", "Pending: no ACTIVE Fargate profile selects the pod", owner_label(pod),
                        tuple(evidence), why, steps, pod.namespace)


# -- DR012 / DR013 / DR014: fargate-scheduler could not launch ------------------------------------------
def _role_evidence(ctx: Context, role_arn: str) -> list[str]:
    role = next((r for r in ctx.snap.pod_execution_roles if r.get("Arn") == role_arn), None)
    source = ctx.snap.sources.get("iam_roles")
    if role is None and source is not None and not source.ok:
        return [f"pod execution role {role_arn or '(none)'}: IAM could not be read ({source.error})"]
    if role is None:
        return [f"pod execution role {role_arn or '(none)'} was not found in IAM (deleted, or not readable)"]
    services = trusted_services(role.get("AssumeRolePolicyDocument") or {})
    trusted = ", ".join(sorted(services)) or "(no service)"
    if FARGATE_PODS_PRINCIPAL not in services:
        return [f"role {role.get('RoleName')} trusts {trusted}, not {FARGATE_PODS_PRINCIPAL}"]
    return [f"role {role.get('RoleName')} trusts {FARGATE_PODS_PRINCIPAL}"]


def pending_launch_failures(ctx: Context) -> Iterator[Finding]:
    """DR012 Misconfigured Fargate Profile, DR013 Pod provisioning timed out, DR014 other launch
    refusals (quota, blocked account, unsupported zone)."""
    for pod in filter(_unscheduled, ctx.snap.pods):
        messages = [(line, m) for line, m in _scheduling_messages(ctx, pod) if line]
        latest = next((pair for pair in messages if "fargate-scheduler" in pair[0]), None) or (messages[0] if messages else None)
        if latest is None or latest[1].startswith(MESSAGE_PREFIX):
            continue
        line, message = latest
        if message.startswith(MISCONFIGURED_PREFIX):
            match = _BLOCKED_PROFILE.search(message)
            name = match.group(1) if match else pod.fargate_profile or "?"
            profile = ctx.snap.profile(name)
            role = profile.pod_execution_role_arn if profile else ""
            role_name = role.rsplit("/", 1)[-1] if role else "<role>"
            yield diagnosis(
                "DR012", "error", "Fargate profile blocked for new launches: pod execution role", f"FargateProfile/{name}",
                (line, f"pending pod {pod.key}", *_role_evidence(ctx, role)),
                "EKS checks the profile's pod execution role at every launch: it must exist, trust "
                f"{FARGATE_PODS_PRINCIPAL} for this cluster's profiles, carry AmazonEKSFargatePodExecutionRolePolicy and "
                "be mapped in the cluster's auth config. Running pods are not affected; new ones stay Pending.",
                (f"aws iam get-role --role-name {role_name} --query Role.AssumeRolePolicyDocument",
                 f"Trust Service {FARGATE_PODS_PRINCIPAL} with Condition ArnLike aws:SourceArn "
                 f"arn:aws:eks:{ctx.region}:<account>:fargateprofile/{ctx.cluster}/*: "
                 f"aws iam update-assume-role-policy --role-name {role_name} --policy-document file://pod-execution-role-trust-policy.json",
                 f"aws iam attach-role-policy --role-name {role_name} --policy-arn arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy",
                 f"aws eks list-access-entries --cluster-name {ctx.cluster}  # the role needs a FARGATE_LINUX entry (or its aws-auth mapping)",
                 restart_command(pod)))
        elif message.startswith(PROVISIONING_TIMEOUT):
            yield diagnosis(
                "DR013", "warning", "Fargate provisioning timed out (retrying)", owner_label(pod), (f"pod {pod.name}", line),
                "Fargate could not provision the pod in time and retries on its own; repeated timeouts usually mean "
                "the image cannot be pulled from the profile's private subnets (no NAT gateway or VPC endpoints) or "
                "the account is at its Fargate launch rate or vCPU quota.",
                ("aws ec2 describe-route-tables --filters Name=association.subnet-id,Values=<profile-subnet>  # needs 0.0.0.0/0 via a NAT gateway",
                 "aws ec2 describe-vpc-endpoints  # or endpoints for com.amazonaws.<region>.ecr.api, ecr.dkr and an s3 gateway",
                 "aws service-quotas get-service-quota --service-code fargate --quota-code L-3032A538  # Fargate On-Demand vCPU",
                 f"kubectl get events -n {pod.namespace} --field-selector involvedObject.name={pod.name}"),
                pod.namespace)
        elif "fargate-scheduler" in line:
            yield diagnosis(
                "DR014", "error", "Fargate refuses to launch the pod", owner_label(pod), (f"pod {pod.name}", line),
                "fargate-scheduler accepted the spec but AWS will not launch it: " + message,
                ("Fargate pod quota: aws service-quotas get-service-quota --service-code fargate --quota-code L-3032A538"
                 if "limit" in message else
                 "Unsupported zone: create a profile whose subnets are in zones Fargate supports, then delete the old one"
                 if "availability zone" in message else
                 "Open an AWS support case: the account cannot launch Fargate pods",
                 f"kubectl get events -n {pod.namespace} --field-selector involvedObject.name={pod.name}"),
                pod.namespace)


# -- DR070 / DR071: containers that do not stay up -------------------------------------------------------
# The kubelet resets its restart back-off after a container has run 10 minutes; until then a
# container that keeps failing is crash-looping even in the seconds it happens to be running.
BACKOFF_RESET_SECONDS = 600
CRASH_RESTARTS = 3


def _between_crashes(ctx: Context, cs) -> bool:
    if cs.running_since is None or cs.restart_count < CRASH_RESTARTS or not cs.last_exit_code:
        return False
    return (ctx.now - cs.running_since).total_seconds() < BACKOFF_RESET_SECONDS


def container_failures(ctx: Context) -> Iterator[Finding]:
    for pod in ctx.snap.pods:
        for cs in pod.init_container_statuses + pod.container_statuses:
            reason, name = cs.waiting_reason, cs.name
            evidence = [f"pod {pod.name} container {name}: waiting {reason}: {cs.waiting_message}".rstrip(": "),
                        f"restarts: {cs.restart_count}"]
            if reason == "CrashLoopBackOff" or _between_crashes(ctx, cs):
                if cs.last_exit_code is not None or cs.last_terminated_reason:
                    exit_code = "?" if cs.last_exit_code is None else cs.last_exit_code
                    evidence.append(f"last exit: {cs.last_terminated_reason or '?'} (exit code {exit_code})")
                oom = cs.last_terminated_reason == "OOMKilled"
                yield diagnosis(
                    "DR070", "error", "Container crash-looping", owner_label(pod), tuple(evidence),
                    "The container keeps exiting and the kubelet backs off restarting it."
                    + (" It was killed for memory: on Fargate the pod gets only the size its requests round up to."
                       if oom else ""),
                    (f"kubectl logs {pod.name} -n {pod.namespace} -c {name} --previous",
                     f"kubectl describe pod {pod.name} -n {pod.namespace}",
                     *((f"Raise the memory request (equal to the limit) in: {edit_command(pod)}",) if oom else ())),
                    pod.namespace)
            elif reason in IMAGE_PULL_REASONS:
                yield diagnosis(
                    "DR071", "error", "Image cannot be pulled", owner_label(pod),
                    (*evidence, f"image: {cs.image or '?'}"),
                    "The kubelet cannot pull the image. On Fargate every pod pulls from scratch from the profile's "
                    "private subnets: the registry must be reachable (NAT gateway or VPC endpoints) and, for ECR, the "
                    "pod execution role needs the ECR read permissions.",
                    (f"kubectl describe pod {pod.name} -n {pod.namespace}",
                     "Check the image name and tag exist: aws ecr describe-images --repository-name <repo> --image-ids imageTag=<tag>",
                     "aws ec2 describe-vpc-endpoints  # ecr.api, ecr.dkr, s3; or a NAT route from the profile's subnets"),
                    pod.namespace)


# -- DR060: slow starts ------------------------------------------------------------------------------------
_PHASE_FIX = {
    "capacity": "Fargate capacity took long (30-45 s is normal): look for 'Pod provisioning timed out' events and the "
                "Fargate vCPU quota (aws service-quotas get-service-quota --service-code fargate --quota-code L-3032A538)",
    "image pull": "Make the image smaller (slim base, multi-stage build) and pull it from ECR in the same region "
                  "through VPC endpoints (ecr.api, ecr.dkr, s3) rather than through NAT or Docker Hub",
    "readiness": "Shorten the readiness probe's initialDelaySeconds/periodSeconds and right-size the CPU request: "
                 "a 0.25 vCPU pod warms up slowly",
}


def slow_starts(ctx: Context) -> Iterator[Finding]:
    """DR060: Fargate pods slower than the start target, per workload, with the dominant phase."""
    by_owner: dict[str, list[tuple[float, Pod, Any]]] = {}
    for pod in ctx.snap.fargate_pods():
        phases = ctx.start_phases.get(pod.key) or pod_start_phases(pod, ctx.events_by_pod.get((pod.namespace, pod.name), ()))
        if phases.to_ready is not None and phases.to_ready > ctx.start_target_seconds:
            by_owner.setdefault(owner_label(pod), []).append((phases.to_ready, pod, phases))
    for owner, slow in sorted(by_owner.items()):
        total, pod, phases = max(slow, key=lambda item: item[0])
        parts = {"capacity": phases.to_scheduled, "image pull": phases.image_pull, "readiness": phases.running_to_ready}
        known = {k: v for k, v in parts.items() if v is not None}
        dominant = max(known, key=lambda k: known[k]) if known else ""
        breakdown = ", ".join(f"{k} {seconds(v)}" for k, v in known.items())
        yield diagnosis(
            "DR060", "warning", f"Slow pod start: {seconds(total)} (target {seconds(ctx.start_target_seconds)})", owner,
            (f"{len(slow)} pod(s) over target; slowest {pod.name}: created to Ready {seconds(total)}"
             + (f" ({breakdown})" if breakdown else ""),),
            f"Most of the time went to {dominant}." if dominant else "The start phases were not recorded.",
            (_PHASE_FIX.get(dominant, f"kubectl describe pod {pod.name} -n {pod.namespace}"),
             f"kubectl get events -n {pod.namespace} --field-selector involvedObject.name={pod.name}"),
            pod.namespace)


# -- DR090: logging ------------------------------------------------------------------------------------------
def logging_disabled(ctx: Context) -> Iterator[Finding]:
    events = [e for e in ctx.snap.events if e.reason == "LoggingDisabled"]
    if not events:
        return
    pods = sorted({f"{e.namespace}/{e.name}" for e in events})
    yield diagnosis(
        "DR090", "info", "Fargate pod logs go nowhere", "ConfigMap/aws-observability/aws-logging",
        (f"event Warning LoggingDisabled on {len(pods)} pod(s), e.g. {pods[0]}: {events[0].message}",),
        "Fargate ships container logs only when the aws-logging ConfigMap exists; pods started without it keep "
        "logging disabled until they are recreated.",
        ("kubectl create namespace aws-observability && kubectl label namespace aws-observability aws-observability=enabled",
         "kubectl apply -f aws-logging-configmap.yaml  # ConfigMap aws-logging in aws-observability with an [OUTPUT] section",
         "Restart the workloads so new pods pick it up"))
