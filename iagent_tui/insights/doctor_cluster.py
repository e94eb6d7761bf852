"""Doctor rules about the cluster's shared parts: Fargate profiles, CoreDNS, the ALB path (load
balancer controller, ingresses, target health) and nodes.

Facts: DOMAIN.md 3.1-3.3 (profile states, health issue codes, durations), 4.2 (CoreDNS add-on
``computeType`` and DEGRADED), 6 (LBC install, IRSA, ``target-type: ip``, target health reasons).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..model import Ingress, Pod, Service
from .cluster_checks import ALB_TARGET_TYPE, COREDNS_POD_LABELS
from .finding import Finding
from .doctor_model import Context, diagnosis, describe_selectors, failed_condition, seconds
from .profiles import match_profile, matching_profiles

LBC_NAMESPACE, LBC_NAME = "kube-system", "aws-load-balancer-controller"
FAILED_ADDON_STATES = ("DEGRADED", "CREATE_FAILED", "UPDATE_FAILED")
_ISSUE_HINTS = {
    "PodExecutionRoleAlreadyInUse": "Use a pod execution role of its own: the profile's role must differ from the node groups' role.",
    "AccessDenied": "Give the pod execution role the trust and AmazonEKSFargatePodExecutionRolePolicy (DOMAIN 8.1).",
    "ClusterUnreachable": "EKS could not reach the cluster; check the cluster is ACTIVE, then recreate the profile.",
    "InternalFailure": "An AWS-side failure: delete the profile and create it again.",
}
_CREDENTIAL_ERRORS = ("WebIdentityErr", "NoCredentialProviders", "no EC2 IMDS role", "AccessDenied")


# -- DR020 / DR021: profiles ---------------------------------------------------------------------------
def profile_problems(ctx: Context) -> Iterator[Finding]:
    for p in ctx.snap.profiles:
        describe = f"aws eks describe-fargate-profile --cluster-name {ctx.cluster} --fargate-profile-name {p.name}"
        if p.status.endswith("_FAILED"):
            issues = [f"health issue {i.code}: {i.message}" + (f" ({', '.join(i.resource_ids)})" if i.resource_ids else "")
                      for i in p.health_issues]
            hints = tuple(dict.fromkeys(_ISSUE_HINTS[i.code] for i in p.health_issues if i.code in _ISSUE_HINTS))
            yield diagnosis(
                "DR020", "error", f"Fargate profile {p.status}", f"FargateProfile/{p.name}",
                (f"status {p.status}", *(issues or ["no health issues reported"])),
                "A failed profile places no pods; profiles cannot be changed, only replaced.",
                (f"{describe} --query fargateProfile.health", *hints,
                 f"aws eks delete-fargate-profile --cluster-name {ctx.cluster} --fargate-profile-name {p.name}",
                 "Create it again once the cause is fixed: " + ctx.create_profile_command(
                     p.name, p.selectors[0].namespace if p.selectors else "<namespace>")))
        elif p.in_transition:
            since = p.created_at if p.status == "CREATING" else p.status_since
            if since is None or (ctx.now - since).total_seconds() < ctx.stuck_profile_seconds:
                continue
            yield diagnosis(
                "DR021", "warning", f"Fargate profile stuck {p.status}", f"FargateProfile/{p.name}",
                (f"status {p.status} for {seconds((ctx.now - since).total_seconds())} "
                 f"({'since createdAt' if p.status == 'CREATING' else 'since first seen'})",
                 f"selectors: {describe_selectors(p)}"),
                "Creates usually take 20 s to 6 min and deletes about 2 min. While one profile is CREATING or "
                "DELETING no other profile can be created or deleted in this cluster.",
                (describe, f"aws eks wait fargate-profile-{'active' if p.status == 'CREATING' else 'deleted'} "
                 f"--cluster-name {ctx.cluster} --fargate-profile-name {p.name}",
                 "If it does not finish, open an AWS support case with the profile ARN " + (p.arn or "")))


# -- DR030 / FG023 / DR032: CoreDNS -------------------------------------------------------------------------
def coredns_addon(ctx: Context) -> Iterator[Finding]:
    addon = ctx.snap.addon("coredns")
    if addon is None:
        return
    pods = ctx.snap.coredns_pods()
    placement = ", ".join(f"{p.name} on {p.compute_type or 'no node'}{'' if p.ready else ' (not Ready)'}" for p in pods) or "none"
    if addon.status in FAILED_ADDON_STATES:
        yield diagnosis(
            "DR030", "error", f"CoreDNS add-on {addon.status}", "Addon/coredns",
            (f"status {addon.status}", *(f"health issue {i.code}: {i.message}" for i in addon.health_issues),
             f"computeType: {addon.compute_type or 'EC2 (default)'}", f"CoreDNS pods: {placement}"),
            "The add-on's pods are not all running; name resolution for every workload depends on them.",
            (f"aws eks describe-addon --cluster-name {ctx.cluster} --addon-name coredns --query addon.health",
             "kubectl get pods -n kube-system -l k8s-app=kube-dns -o wide",
             "kubectl describe pods -n kube-system -l k8s-app=kube-dns"))
    if addon.compute_type.lower() != "fargate" or match_profile("kube-system", COREDNS_POD_LABELS, ctx.snap.profiles):
        return
    waiting = matching_profiles("kube-system", COREDNS_POD_LABELS, ctx.snap.profiles, active_only=False)
    steps: tuple[str, ...]
    if waiting:
        name = waiting[0].name
        steps = (ctx.wait_profile_command(name), "kubectl rollout restart -n kube-system deployment coredns")
    else:
        steps = (ctx.create_profile_command("coredns", "kube-system", {"k8s-app": "kube-dns"}),
                 ctx.wait_profile_command("coredns"), "kubectl rollout restart -n kube-system deployment coredns")
    yield diagnosis(
        "FG023", "error", "CoreDNS set to Fargate but no profile selects it", "Addon/coredns",
        ('configurationValues computeType: "Fargate"',
         "profiles selecting kube-system k8s-app=kube-dns: "
         + (", ".join(f"{p.name} ({p.status})" for p in waiting) or "none"),
         f"CoreDNS pods: {placement}"),
        "DNS is at risk for everything: new CoreDNS pods get no Fargate capacity, so they run only while an EC2 "
        "node has room and stay Pending once the node group is gone.",
        steps)


def coredns_pods(ctx: Context) -> Iterator[Finding]:
    pods = [p for p in ctx.snap.coredns_pods() if p.phase != "Succeeded"]
    wanted = next((w.replicas for w in ctx.snap.workloads if (w.kind, w.namespace, w.name) == ("Deployment", "kube-system", "coredns")), None)
    ready = [p for p in pods if p.ready]
    if ready and len(ready) == len(pods) and (wanted is None or len(ready) >= wanted):
        return
    if not pods and not wanted:
        return  # no CoreDNS in this cluster (another DNS provider): nothing to judge
    evidence = [f"{len(ready)} of {wanted if wanted is not None else len(pods)} CoreDNS pods Ready"]
    for p in pods:
        if not p.ready:
            scheduled = failed_condition(p, "PodScheduled")
            detail = f" ({scheduled.reason or None}: {scheduled.message})" if scheduled is not None else ""
            evidence.append(f"pod {p.name}: {p.reason} on {p.node or 'no node'}{detail}")
    yield diagnosis(
        "DR032", "error" if not ready else "warning",
        "DNS is down: no CoreDNS pod is Ready" if not ready else "CoreDNS degraded: not every pod is Ready",
        "Deployment/kube-system/coredns", tuple(evidence),
        "Every pod resolves names through CoreDNS; with none Ready, service names stop resolving cluster-wide."
        if not ready else "Fewer CoreDNS replicas carry all DNS traffic; one more failure takes DNS down.",
        ("kubectl get pods -n kube-system -l k8s-app=kube-dns -o wide",
         "kubectl describe pods -n kube-system -l k8s-app=kube-dns",
         "kubectl logs -n kube-system -l k8s-app=kube-dns --tail=50"))


# -- DR040 / FG019: the ALB path -----------------------------------------------------------------------------
def _selects(service: Service, pod: Pod) -> bool:
    selector = service.selector
    return bool(selector) and pod.namespace == service.namespace and all(pod.labels.get(k) == v for k, v in selector.items())


def _backend_pods(ctx: Context, ingress: Ingress) -> list[Pod]:
    names = set(ingress.backend_services)
    services = [s for s in ctx.snap.services if s.namespace == ingress.namespace and s.name in names]
    # The ingress's namespace only: at 5,000 pods, matching every pod against every service was
    # the assessment's largest cost.
    return [p for p in ctx.pods_by_namespace.get(ingress.namespace, ()) if any(_selects(s, p) for s in services)]


def _service_target_type(ctx: Context, ingress: Ingress) -> str:
    """The LBC lets a Service's own annotation override the Ingress's."""
    names = set(ingress.backend_services)
    for s in ctx.snap.services:
        if s.namespace == ingress.namespace and s.name in names:
            own = s.annotations.get(ALB_TARGET_TYPE)
            if own:
                return own
    return ingress.target_type


def _controller(ctx: Context) -> tuple[Any, list[Pod]]:
    deployment = next((w for w in ctx.snap.workloads if (w.kind, w.namespace, w.name) == ("Deployment", LBC_NAMESPACE, LBC_NAME)), None)
    pods = [p for p in ctx.snap.pods if p.namespace == LBC_NAMESPACE and p.labels.get("app.kubernetes.io/name") == LBC_NAME]
    return deployment, pods


def _install_steps(ctx: Context) -> tuple[str, ...]:
    return ("Set up IRSA: role AmazonEKSLoadBalancerControllerRole trusting the cluster's OIDC provider for "
            "system:serviceaccount:kube-system:aws-load-balancer-controller, and that service account annotated "
            "eks.amazonaws.com/role-arn",
            f"helm install aws-load-balancer-controller eks/aws-load-balancer-controller -n kube-system --set clusterName={ctx.cluster} "
            f"--set serviceAccount.create=false --set serviceAccount.name=aws-load-balancer-controller --set region={ctx.region} "
            "--set vpcId=<vpc-id>",
            f"kubectl get deployment -n {LBC_NAMESPACE} {LBC_NAME}")


def ingress_problems(ctx: Context) -> Iterator[Finding]:
    deployment, controller_pods = _controller(ctx)
    for ing in ctx.snap.ingresses:
        if ing.class_name not in ("alb", ""):
            continue  # another controller's ingress
        obj, where = f"Ingress/{ing.namespace}/{ing.name}", f"-n {ing.namespace}"
        backends = _backend_pods(ctx, ing)
        on_fargate = [p for p in backends if p.compute_type == "fargate"]
        target_type = _service_target_type(ctx, ing)
        if ing.class_name == "alb" and target_type != "ip" and on_fargate:
            yield diagnosis(
                "FG019", "error", "ALB would register nodes, but the pods run on Fargate", obj,
                (f"{ALB_TARGET_TYPE}: {target_type}" + (" (unset: the controller's default)" if target_type == "instance" else ""),
                 f"backend pods on Fargate: {', '.join(p.name for p in on_fargate)}"),
                "Instance targets register nodes and the controller skips Fargate nodes, so the target group stays "
                "empty and the ALB answers 503.",
                (f"kubectl annotate ingress {ing.name} {where} {ALB_TARGET_TYPE}=ip --overwrite",), ing.namespace,
                category="broken")  # the same fault FG019 flags in the spec, failing now
        if ing.hostname:
            continue
        events = [e for e in ctx.snap.events if e.kind == "Ingress" and e.namespace == ing.namespace
                  and e.name == ing.name and e.type == "Warning"]
        evidence = ["no address: status.loadBalancer.ingress is empty",
                    *(f"event Warning {e.reason} (x{e.count}): {e.message}" for e in events)]
        if not ing.class_name:
            cause = "no ingress class"
            why = ("Without ingressClassName alb (or the kubernetes.io/ingress.class annotation) the load balancer "
                   "controller ignores the ingress.")
            steps = (f"kubectl patch ingress {ing.name} {where} --type merge -p '{{\"spec\":{{\"ingressClassName\":\"alb\"}}}}'",)
        elif deployment is None:
            cause = "load balancer controller not installed"
            why = f"No Deployment {LBC_NAMESPACE}/{LBC_NAME}: nothing creates the ALB."
            steps = _install_steps(ctx)
            evidence.append(f"Deployment {LBC_NAMESPACE}/{LBC_NAME} not found")
        elif deployment.ready < 1:
            cause = "load balancer controller not ready"
            evidence.append(f"Deployment {LBC_NAMESPACE}/{LBC_NAME}: {deployment.ready}/{deployment.replicas} ready")
            evidence += [f"pod {p.name}: {p.reason} on {p.node or 'no node'}" for p in controller_pods]
            why = ("The controller has no ready replica. On Fargate it needs --aws-region and --aws-vpc-id (no "
                   "instance metadata) and a profile selecting its pods in kube-system.")
            steps = (f"kubectl logs -n {LBC_NAMESPACE} deployment/{LBC_NAME}", f"kubectl describe pods -n {LBC_NAMESPACE} "
                     f"-l app.kubernetes.io/name={LBC_NAME}", f"helm upgrade {LBC_NAME} eks/{LBC_NAME} -n kube-system "
                     f"--reuse-values --set region={ctx.region} --set vpcId=<vpc-id>")
        elif any(marker in e.message for e in events for marker in _CREDENTIAL_ERRORS):
            cause = "controller has no AWS credentials (IRSA)"
            why = "The controller cannot assume its IAM role through the cluster's OIDC provider, so it cannot call AWS."
            steps = (f"kubectl get serviceaccount {LBC_NAME} -n {LBC_NAMESPACE} -o jsonpath='{{.metadata.annotations}}'",
                     "aws iam get-role --role-name AmazonEKSLoadBalancerControllerRole --query Role.AssumeRolePolicyDocument",
                     f"aws eks describe-cluster --name {ctx.cluster} --query cluster.identity.oidc.issuer --output text",
                     "aws iam list-open-id-connect-providers",
                     f"kubectl rollout restart deployment/{LBC_NAME} -n {LBC_NAMESPACE}")
        elif events:
            cause, why = "controller reports an error", "The controller tried and failed; its event says why."
            steps = (f"kubectl describe ingress {ing.name} {where}", f"kubectl logs -n {LBC_NAMESPACE} deployment/{LBC_NAME}")
        else:
            created = ing.created
            age = (ctx.now - created).total_seconds() if created else None
            if age is not None and age < 300:
                continue  # an ALB takes 2-3 minutes to appear; nothing to say yet
            cause, why = "no address and no controller event", "The controller is ready but has not published an address."
            steps = (f"kubectl describe ingress {ing.name} {where}", f"kubectl logs -n {LBC_NAMESPACE} deployment/{LBC_NAME}")
        yield diagnosis("DR040", "error", f"ALB not created: {cause}", obj, tuple(evidence), why, steps, ing.namespace)


def _pod_state(ctx: Context, key: str | None) -> tuple[Pod | None, str]:
    if not key:
        return None, "no pod owns this IP now"
    namespace, _, name = key.partition("/")
    pod = ctx.snap.pod(namespace, name)
    if pod is None:
        return None, f"pod {key} no longer exists"
    return pod, f"pod {key}: {pod.reason}, Ready={pod.ready}"


def target_problems(ctx: Context) -> Iterator[Finding]:
    """DR050: targets not healthy, with the pod behind each and its readiness."""
    for tg in ctx.snap.target_groups:
        healthy = sum(t.state == "healthy" for t in tg.targets)
        for t in tg.targets:
            if t.state == "healthy":
                continue
            pod, pod_text = _pod_state(ctx, t.pod)
            stuck_initial = t.state == "initial" and t.since is not None and (ctx.now - t.since).total_seconds() > 300
            if t.state == "initial" and not stuck_initial:
                continue
            draining = t.state in ("draining", "unhealthy.draining")
            if draining and (pod is None or not pod.ready):
                continue  # deregistration after the pod went away: the normal end of a target
            severity = "error" if (t.state == "unhealthy" and healthy == 0) else "warning"
            namespace = t.pod.partition("/")[0] if t.pod else ""
            yield diagnosis(
                "DR050", severity, f"ALB target {t.state}" + (" (no healthy target left)" if healthy == 0 else ""),
                f"TargetGroup/{tg.name}",
                (f"target {t.id}:{t.port} {t.state}" + (f" ({t.reason}: {t.description})" if t.reason else ""), pod_text,
                 f"{healthy} of {len(tg.targets)} targets healthy"),
                "The load balancer sends traffic only to healthy targets (or to all of them when none is healthy). "
                + ("The pod behind it is still Ready, so it is being deregistered while serving." if draining else
                   "Compare the health check path and port with the pod's readiness probe."),
                (f"aws elbv2 describe-target-health --target-group-arn {tg.arn}",
                 *((f"kubectl describe pod {pod.name} -n {pod.namespace}",) if pod else ()),
                 "Check alb.ingress.kubernetes.io/healthcheck-path on the ingress matches an endpoint that answers 200, "
                 "and that the pods' security group admits the ALB on the target port"),
                namespace)


# -- DR080: nodes ------------------------------------------------------------------------------------------
def nodes_not_ready(ctx: Context) -> Iterator[Finding]:
    for node in ctx.snap.nodes:
        if node.ready:
            continue
        pods = ctx.pods_by_node.get(node.name, [])
        fargate = node.compute_type == "fargate"
        yield diagnosis(
            "DR080", "error", f"{'Fargate' if fargate else 'EC2'} node NotReady", f"Node/{node.name}",
            ("condition Ready is not True", f"pods on it: {', '.join(p.key for p in pods) or 'none'}"),
            "A Fargate node carries exactly one pod; when it is NotReady, that pod is lost until it is recreated."
            if fargate else "Pods on a NotReady node are evicted after the toleration period and need room elsewhere.",
            (f"kubectl describe node {node.name}",
             *((f"kubectl delete pod {pods[0].name} -n {pods[0].namespace}  # its controller starts a new one on a fresh Fargate node",)
               if fargate and pods else ())))

