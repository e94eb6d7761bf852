"""The AWS Load Balancer Controller, simulated (DOMAIN.md 6).

It acts only while it is installed and can act: the kube-system/aws-load-balancer-controller
Deployment has ready pods, and its ServiceAccount's ``eks.amazonaws.com/role-arn`` names an IAM
role that trusts the service account through the cluster's OIDC provider (IRSA). Installed but
without working IRSA, it does what the real one does: every ALB ingress gets a Warning
``FailedBuildModel`` event with the SDK's credential error, the leader pod's log
(``kubectl logs``) says the same, and no address appears.

For each ALB ingress (class ``alb``) it builds the model (lbc_model), then deploys it (lbc_deploy)
through the ELBv2/EC2 APIs of the sandbox's AWS: a managed security group, the ALB named as LBC names it in the
subnets discovered by role tag, target groups with the annotation health checks, an HTTP:80
listener with one rule per path; then a TargetGroupBinding per target group in the service's
namespace, the ALB's DNS name in the ingress status and ``SuccessfullyReconciled``. Targets and
their health are lbc_targets' job. Deleting the ingress (it carries LBC's finalizer) deletes the
ALB, the target groups, the bindings and the security group.
"""

from __future__ import annotations

import asyncio
import logging

from ..kube.errors import ApiError
from ..kube.resources import rt
from . import lbc_irsa
from .awslinks import Wakeup, aws_client, watch_objects
from .lbc_deploy import Deployed, StackDeployer
from .lbc_log import controller_log, leader_pod
from .lbc_model import READINESS_INJECT_LABEL, SUBNET_ROLE_TAGS, ModelBuildError, build_model, is_alb_ingress
from .lbc_targets import TargetSync, readiness_gate_for

log = logging.getLogger(__name__)

DEPLOYMENTS, SERVICEACCOUNTS, INGRESSES = rt("deployments"), rt("serviceaccounts"), rt("ingresses")
SERVICES, PODS, NODES, NAMESPACES = rt("services"), rt("pods"), rt("nodes"), rt("namespaces")
CONTROLLER_NS = "kube-system"
CONTROLLER_NAME = "aws-load-balancer-controller"
FINALIZER = "ingress.k8s.aws/resources"
COMPONENT = "ingress"
RECONCILE_SECONDS = (3.0, 8.0)     # one reconcile's AWS calls, before the address shows
RETRY_SECONDS = 30.0               # controller-runtime requeue while credentials fail


class LoadBalancerController:
    def __init__(self, world) -> None:
        self.world = world
        self.store = world.store
        self.wakeup = Wakeup(world.clock)
        self.deployed: dict[tuple[str, str], Deployed] = {}
        self.first_seen: dict[tuple[str, str], float] = {}
        self.credentials_error: str | None = None
        self._irsa_checked_for: tuple | None = None
        self._irsa_checked_at = -1e18
        self._elbv2 = aws_client(world, "elbv2")
        self._ec2 = aws_client(world, "ec2")
        self.targets = TargetSync(world, self._elbv2)
        self.deployer = StackDeployer(world, self._elbv2, self._ec2, self.targets)
        self._model_dirty = True
        self._next_ingress_pass = float("inf")
        self._cloud_error_logged: str | None = None

    # -- is the controller there, and can it reach AWS? -------------------------------------
    def controller_deployment(self) -> dict | None:
        deployment = self.store.get(DEPLOYMENTS, CONTROLLER_NS, CONTROLLER_NAME)
        if deployment is None or deployment["metadata"].get("deletionTimestamp"):
            return None
        if int((deployment.get("status") or {}).get("readyReplicas") or 0) < 1:
            return None
        if self.cloud_error(deployment) is not None:
            return None
        return deployment

    def cloud_error(self, deployment: dict) -> str | None:
        """Why the controller cannot start its AWS cloud, as it logs it (DOMAIN.md 6.2): on
        Fargate there is no instance metadata, so --aws-vpc-id is required, and --aws-region too
        unless IRSA's webhook injected AWS_REGION (it does when the service account has a role)."""
        leader = leader_pod(self.store)
        if leader is None or not (leader["spec"].get("nodeName") or "").startswith("fargate-"):
            return None
        error = None
        if not self._deployment_arg(deployment, "--aws-region"):
            sa_name = deployment["spec"]["template"]["spec"].get("serviceAccountName") or "default"
            sa = self.store.get(SERVICEACCOUNTS, CONTROLLER_NS, sa_name) or {}
            if not (sa.get("metadata", {}).get("annotations") or {}).get(lbc_irsa.ROLE_ARN_ANNOTATION):
                error = ("failed to introspect region from EC2Metadata, specify --aws-region instead "
                         "if EC2Metadata is unavailable")
        if error is None and not self._deployment_arg(deployment, "--aws-vpc-id"):
            error = ("failed to get VPC ID: failed to fetch VPC ID from instance metadata: error in fetching "
                     "vpc id through ec2 metadata: get mac metadata: operation error ec2imds: GetMetadata, "
                     "canceled, context deadline exceeded")
        if error is not None and self._cloud_error_logged != leader["metadata"]["uid"]:
            self._cloud_error_logged = leader["metadata"]["uid"]
            controller_log(self.world, "error", "unable to initialize AWS cloud", logger="setup", error=error)
        return error

    def _deployment_arg(self, deployment: dict, flag: str) -> str | None:
        for container in deployment["spec"]["template"]["spec"].get("containers") or []:
            for arg in container.get("args") or []:
                if arg.startswith(flag + "="):
                    return arg.split("=", 1)[1]
        return None

    def irsa_error(self, deployment: dict) -> str | None:
        sa_name = deployment["spec"]["template"]["spec"].get("serviceAccountName") or "default"
        sa = self.store.get(SERVICEACCOUNTS, CONTROLLER_NS, sa_name)
        role_arn = ((sa or {}).get("metadata", {}).get("annotations") or {}).get(lbc_irsa.ROLE_ARN_ANNOTATION)
        key = (sa_name, role_arn)
        now = self.world.clock.elapsed()
        # IAM changes made with the aws CLI are not watchable: re-check on the requeue period.
        if key == self._irsa_checked_for and now - self._irsa_checked_at < RETRY_SECONDS:
            return self.credentials_error
        self._irsa_checked_for, self._irsa_checked_at = key, now
        iam = aws_client(self.world, "iam")
        cluster = aws_client(self.world, "eks").describe_cluster(name=self.world.cluster_name)["cluster"]
        issuer = ((cluster.get("identity") or {}).get("oidc") or {}).get("issuer")
        providers = {arn.split(":oidc-provider/", 1)[-1]
                     for arn in (p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"])}
        roles = {}
        if role_arn and "/" in role_arn:
            try:
                role = iam.get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]
                if role["Arn"] == role_arn:
                    roles[role_arn] = role["AssumeRolePolicyDocument"]
            except iam.exceptions.NoSuchEntityException:
                pass
        account = role_arn.split(":")[4] if role_arn and role_arn.count(":") >= 5 else ""
        self.credentials_error = lbc_irsa.check(
            role_arn=role_arn, namespace=CONTROLLER_NS, service_account=sa_name, issuer=issuer,
            account_id=account or self._account_id(), roles_by_arn=roles, oidc_provider_urls=providers)
        return self.credentials_error

    def _account_id(self) -> str:
        return str(getattr(self.world.aws, "account_id", ""))

    # -- events and logs --------------------------------------------------------------------
    def _warn(self, ingress: dict, reason: str, error: str) -> None:
        text = "Failed build model due to " if reason == "FailedBuildModel" else "Failed deploy model due to "
        self.store.record_event(ingress, reason, text + error, type="Warning", component=COMPONENT)
        meta = ingress["metadata"]
        controller_log(self.world, "error", "Reconciler error", controller="ingress",
                       object={"name": meta["name"], "namespace": meta["namespace"]},
                       namespace=meta["namespace"], name=meta["name"], error=error)

    # -- one ingress ------------------------------------------------------------------------
    def _services_of(self, ingress: dict) -> dict[str, dict]:
        services, _ = self.store.list(SERVICES, ingress["metadata"]["namespace"])
        return {s["metadata"]["name"]: s for s in services}

    def _vpc_id(self, deployment: dict) -> str:
        vpc = self._deployment_arg(deployment, "--aws-vpc-id")
        if vpc:
            return vpc
        cluster = aws_client(self.world, "eks").describe_cluster(name=self.world.cluster_name)["cluster"]
        return cluster["resourcesVpcConfig"]["vpcId"]

    def _discover_subnets(self, vpc_id: str, scheme: str) -> list[str]:
        tag = SUBNET_ROLE_TAGS[scheme]
        subnets = self._ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                      {"Name": "tag-key", "Values": [tag]}])["Subnets"]
        subnets = [s for s in subnets if {t["Key"]: t["Value"] for t in s.get("Tags") or []}.get(tag) in ("1", "")]
        if not subnets:
            raise ModelBuildError(f"couldn't auto-discover subnets: unable to resolve at least one subnet "
                                  f"(0 match VPC and tags: [{tag}])")
        per_zone: dict[str, str] = {}
        for subnet in sorted(subnets, key=lambda s: s["SubnetId"]):
            per_zone.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
        return sorted(per_zone.values())

    def reconcile_ingress(self, ingress: dict, deployment: dict) -> bool:
        """True when the ingress is in its wanted state (False: a failure to retry later)."""
        meta = ingress["metadata"]
        key = (meta["namespace"], meta["name"])
        if meta.get("deletionTimestamp"):
            self._tear_down(key)
            if FINALIZER in (meta.get("finalizers") or []):
                self.store.mutate(INGRESSES, key[0], key[1], lambda o: o["metadata"].__setitem__(
                    "finalizers", [f for f in o["metadata"].get("finalizers") or [] if f != FINALIZER]))
            return True
        try:
            model = build_model(self.world.cluster_name, ingress, self._services_of(ingress))
            vpc_id = self._vpc_id(deployment)
            subnets = self._discover_subnets(vpc_id, model.scheme)
        except ModelBuildError as exc:
            self._warn(ingress, "FailedBuildModel", str(exc))
            return False
        current = self.deployed.get(key)
        if current is not None and current.model == model:
            return True
        if FINALIZER not in (meta.get("finalizers") or []):
            self.store.mutate(INGRESSES, key[0], key[1], lambda o: o["metadata"].setdefault(
                "finalizers", []).append(FINALIZER))
        try:
            deployed = self.deployer.deploy(ingress, model, vpc_id, subnets, current)
        except self._elbv2.exceptions.ClientError as exc:
            self._warn(ingress, "FailedDeployModel", _aws_error_text(exc))
            return False
        self.deployed[key] = deployed
        controller_log(self.world, "info", "successfully deployed model", logger="controllers.ingress",
                       ingressGroup=f"{key[0]}/{key[1]}")
        self._publish_status(key, deployed.dns_name)
        self.store.record_event(self.store.get(INGRESSES, *key) or ingress, "SuccessfullyReconciled",
                                "Successfully reconciled", component=COMPONENT)
        return True

    def _publish_status(self, key: tuple[str, str], hostname: str | None) -> None:
        wanted = {"ingress": [{"hostname": hostname}]} if hostname else {}

        def set_status(obj: dict) -> None:
            obj.setdefault("status", {})["loadBalancer"] = wanted
        current = self.store.get(INGRESSES, *key)
        if current is not None and (current.get("status") or {}).get("loadBalancer") != wanted:
            self.store.mutate(INGRESSES, key[0], key[1], set_status, status=True)

    # -- teardown ---------------------------------------------------------------------------
    def _tear_down(self, key: tuple[str, str]) -> None:
        deployed = self.deployed.pop(key, None)
        if deployed is not None:
            self.deployer.tear_down(deployed)

    # -- readiness gate webhook ---------------------------------------------------------------
    def admit_pod(self, rtype, obj: dict) -> None:
        """LBC's pod mutator (failurePolicy Ignore): only while the controller runs."""
        if rtype.plural != "pods" or self.controller_deployment() is None:
            return
        ns = self.store.get(NAMESPACES, None, obj["metadata"].get("namespace") or "default")
        if ((ns or {}).get("metadata", {}).get("labels") or {}).get(READINESS_INJECT_LABEL) != "enabled":
            return
        bindings = [b for d in self.deployed.values() for b in d.bindings.values()]
        gates = readiness_gate_for(self.store, obj, bindings)
        if gates:
            spec_gates = obj["spec"].setdefault("readinessGates", [])
            for gate in gates:
                if not any(g.get("conditionType") == gate for g in spec_gates):
                    spec_gates.append({"conditionType": gate})

    # -- loop -------------------------------------------------------------------------------
    def step(self) -> float | None:
        """One pass; returns simulated seconds until something is due (None: wait for a change).
        Ingresses are rebuilt only when an input of their model changed or a retry is due; pod
        and node changes only touch targets."""
        deployment = self.controller_deployment()
        waits: list[float] = []
        if deployment is None:
            self._model_dirty = True     # re-examine everything once it is back
            for deployed in list(self.deployed.values()):
                for binding in deployed.bindings.values():
                    wait = self.targets.sync(binding, manage=False)
                    if wait is not None:
                        waits.append(wait)
            return min(waits) if waits else None
        now = self.world.clock.elapsed()
        if self._model_dirty or now >= self._next_ingress_pass:
            self._model_dirty = False
            self._next_ingress_pass = float("inf")
            self._ingress_pass(deployment, now)
        if self._next_ingress_pass != float("inf"):
            waits.append(max(0.0, self._next_ingress_pass - now))
        for deployed in list(self.deployed.values()):
            for binding in deployed.bindings.values():
                wait = self.targets.sync(binding)
                if wait is not None:
                    waits.append(wait)
        return min(waits) if waits else None

    def _ingress_pass(self, deployment: dict, now: float) -> None:
        ingresses = [i for i in self.store.list(INGRESSES)[0] if is_alb_ingress(i)
                     or (i["metadata"].get("namespace"), i["metadata"]["name"]) in self.deployed]
        present = {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in ingresses}
        for key in list(self.deployed):
            if key not in present:                # deleted without our finalizer, or class gone
                self._tear_down(key)
                self._publish_status(key, None)
        if not ingresses:
            return
        error = self.irsa_error(deployment)
        if error is not None:
            for ingress in ingresses:
                self._warn(ingress, "FailedBuildModel", error)
            self._next_ingress_pass = now + RETRY_SECONDS
            return
        for ingress in ingresses:
            key = (ingress["metadata"]["namespace"], ingress["metadata"]["name"])
            if key not in self.deployed and not ingress["metadata"].get("deletionTimestamp"):
                # The first reconcile takes a few seconds of AWS calls before the address shows.
                due = self.first_seen.setdefault(
                    key, now + self.world.clock.draw(f"lbc:reconcile:{key[0]}/{key[1]}", *RECONCILE_SECONDS))
                if now < due:
                    self._next_ingress_pass = min(self._next_ingress_pass, due)
                    continue
            if not is_alb_ingress(ingress):       # class changed away from alb
                self._tear_down(key)
                self._publish_status(key, None)
                continue
            if not self.reconcile_ingress(ingress, deployment):
                self._next_ingress_pass = min(self._next_ingress_pass, now + RETRY_SECONDS)

    def _dirty(self, *_args) -> None:
        self._model_dirty = True
        self.wakeup.set()

    async def run(self) -> None:
        store = self.store
        store.add_admission_hook(self.admit_pod)
        watched = ((DEPLOYMENTS, CONTROLLER_NS, self._dirty), (SERVICEACCOUNTS, CONTROLLER_NS, self._dirty),
                   (INGRESSES, None, self._dirty), (SERVICES, None, self._dirty),
                   (PODS, None, self.wakeup.set), (NODES, None, self.wakeup.set),
                   (NAMESPACES, None, self.wakeup.set))
        watchers = [asyncio.create_task(watch_objects(store, rtype, callback, ns))
                    for rtype, ns, callback in watched]
        try:
            while True:
                try:
                    wait = self.step()
                except ApiError as exc:
                    log.warning("aws-load-balancer-controller: %s", exc.message)
                    wait = 1.0
                await self.wakeup.wait(wait)
        finally:
            for task in watchers:
                task.cancel()


def _aws_error_text(exc) -> str:
    err = exc.response.get("Error", {})
    meta = exc.response.get("ResponseMetadata", {})
    return (f"{err.get('Code')}: {err.get('Message')}\n\tstatus code: {meta.get('HTTPStatusCode')}, "
            f"request id: {meta.get('RequestId', '')}")


async def run(world) -> None:
    await LoadBalancerController(world).run()
