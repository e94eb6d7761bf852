"""The AWS and Kubernetes resources the load balancer controller deploys for one ingress's model:
the managed security group, the ALB (with ELB's DNS-name shape), target groups with the annotation
health checks and attributes, the HTTP:80 listener with a rule per path, and a TargetGroupBinding
per target group; and their removal. Called by lbc.py once credentials and the model are good;
botocore ClientError propagates so the caller can report ``FailedDeployModel``."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..kube.errors import ApiError
from ..kube.resources import rt
from .awslinks import moto_lock
from .lbc_log import controller_log
from .lbc_model import ANN, DEREGISTRATION_DELAY_SECONDS, IngressModel, alb_path_pattern
from .lbc_targets import Binding, TargetSync

TGBS = rt("targetgroupbindings")


@dataclass
class Deployed:
    """What was created for one ingress (the real controller finds it again by AWS tags)."""
    model: IngressModel
    lb_arn: str
    dns_name: str
    listener_arn: str
    security_group: str | None
    bindings: dict[str, Binding] = field(default_factory=dict)   # tg name -> binding


class StackDeployer:
    def __init__(self, world, elbv2, ec2, targets: TargetSync) -> None:
        self.world = world
        self.store = world.store
        self.elbv2 = elbv2
        self.ec2 = ec2
        self.targets = targets

    def _stack_tags(self, model: IngressModel, resource: str) -> list[dict]:
        return [{"Key": "elbv2.k8s.aws/cluster", "Value": self.world.cluster_name},
                {"Key": "ingress.k8s.aws/stack", "Value": f"{model.namespace}/{model.name}"},
                {"Key": "ingress.k8s.aws/resource", "Value": resource}]

    def _security_group(self, model: IngressModel, vpc_id: str) -> str:
        name = model.lb_name
        found = self.ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]},
                                                           {"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
        if found:
            return found[0]["GroupId"]
        group = self.ec2.create_security_group(
            GroupName=name, Description="[k8s] Managed SecurityGroup for LoadBalancer", VpcId=vpc_id,
            TagSpecifications=[{"ResourceType": "security-group",
                                "Tags": self._stack_tags(model, "ManagedLBSecurityGroup")}])["GroupId"]
        self.ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
            "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": ""}]}])
        return group

    def deploy(self, ingress: dict, model: IngressModel, vpc_id: str, subnets: list[str],
                current: Deployed | None) -> Deployed:
        elbv2 = self.elbv2
        if current is not None and current.model.lb_name != model.lb_name:
            self.tear_down(current)            # scheme or name changed: a new ALB
            current = None
        sg = self._security_group(model, vpc_id)
        existing = [lb for lb in elbv2.describe_load_balancers()["LoadBalancers"]
                    if lb["LoadBalancerName"] == model.lb_name]
        if existing:
            lb = existing[0]
        else:
            controller_log(self.world, "info", "creating loadBalancer", logger="controllers.ingress",
                           stackID=f"{model.namespace}/{model.name}", resourceID="LoadBalancer")
            lb = elbv2.create_load_balancer(
                Name=model.lb_name, Subnets=subnets, SecurityGroups=[sg], Scheme=model.scheme,
                Type="application", IpAddressType="ipv4",
                Tags=self._stack_tags(model, "LoadBalancer"))["LoadBalancers"][0]
            lb["DNSName"] = self._real_dns_name(lb["LoadBalancerArn"], model)
            controller_log(self.world, "info", "created loadBalancer", logger="controllers.ingress",
                           stackID=f"{model.namespace}/{model.name}", resourceID="LoadBalancer",
                           arn=lb["LoadBalancerArn"])
        ing_ann = ingress["metadata"].get("annotations") or {}
        bindings: dict[str, Binding] = {}
        for backend in model.backends:
            tg_arn = self._ensure_target_group(model, backend, vpc_id, ing_ann)
            bindings[backend.tg_name] = Binding(
                tg_arn=tg_arn, tgb_name=backend.tg_name, namespace=backend.namespace,
                service=backend.service, service_port=backend.service_port,
                target_type=backend.target_type, health=backend.health,
                deregistration_delay=_deregistration_delay(ing_ann))
        listener_arn = self._ensure_listener(lb["LoadBalancerArn"], model, bindings)
        for old_name, old in (current.bindings.items() if current else []):
            if old_name not in bindings:      # no rule points at it any more
                self._drop_binding(old)
                elbv2.delete_target_group(TargetGroupArn=old.tg_arn)
        for backend in model.backends:
            self._ensure_tgb(model, backend, bindings[backend.tg_name])
        return Deployed(model=model, lb_arn=lb["LoadBalancerArn"], dns_name=lb["DNSName"],
                        listener_arn=listener_arn, security_group=sg, bindings=bindings)

    def _real_dns_name(self, lb_arn: str, model: IngressModel) -> str:
        """ELB's DNS name shape, ``[internal-]<name>-<10 digits>.<region>.elb.amazonaws.com``
        (moto writes ``<name>-1``), so the hostname users see looks like a real ALB's."""
        digits = self.world.clock.rng(f"alb-dns:{model.lb_name}").randrange(10**9, 10**10)
        prefix = "internal-" if model.scheme == "internal" else ""
        dns = f"{prefix}{model.lb_name}-{digits}.{self.world.region}.elb.amazonaws.com"
        with moto_lock(self.world):
            balancer = self.world.aws.backend("elbv2").load_balancers.get(lb_arn)
            if balancer is not None:
                balancer.dns_name = dns
        return dns

    def _ensure_target_group(self, model, backend, vpc_id: str, ing_ann: dict) -> str:
        elbv2 = self.elbv2
        try:
            return elbv2.describe_target_groups(Names=[backend.tg_name])["TargetGroups"][0]["TargetGroupArn"]
        except elbv2.exceptions.TargetGroupNotFoundException:
            pass
        h = backend.health
        tg = elbv2.create_target_group(
            Name=backend.tg_name, Protocol="HTTP", ProtocolVersion="HTTP1", Port=backend.tg_port,
            VpcId=vpc_id, TargetType=backend.target_type, HealthCheckProtocol="HTTP",
            HealthCheckPort=h.port, HealthCheckEnabled=True, HealthCheckPath=h.path,
            HealthCheckIntervalSeconds=h.interval, HealthCheckTimeoutSeconds=h.timeout,
            HealthyThresholdCount=h.healthy_threshold, UnhealthyThresholdCount=h.unhealthy_threshold,
            Matcher={"HttpCode": h.success_codes}, IpAddressType="ipv4",
            Tags=self._stack_tags(model, f"{backend.namespace}/{model.name}-{backend.service}:{backend.service_port}")
        )["TargetGroups"][0]
        attributes = _target_group_attributes(ing_ann)
        if attributes:
            elbv2.modify_target_group_attributes(
                TargetGroupArn=tg["TargetGroupArn"],
                Attributes=[{"Key": k, "Value": v} for k, v in attributes.items()])
        controller_log(self.world, "info", "created targetGroup", logger="controllers.ingress",
                       stackID=f"{model.namespace}/{model.name}",
                       resourceID=f"{backend.namespace}/{model.name}-{backend.service}:{backend.service_port}",
                       arn=tg["TargetGroupArn"])
        return tg["TargetGroupArn"]

    def _ensure_listener(self, lb_arn: str, model: IngressModel, bindings: dict[str, Binding]) -> str:
        elbv2 = self.elbv2
        for listener in elbv2.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]:
            if listener["Port"] == 80:
                for rule in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
                    if not rule["IsDefault"]:
                        elbv2.delete_rule(RuleArn=rule["RuleArn"])
                listener_arn = listener["ListenerArn"]
                break
        else:
            listener_arn = elbv2.create_listener(
                LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80,
                DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                    "ContentType": "text/plain", "StatusCode": "404"}}])["Listeners"][0]["ListenerArn"]
        priority = 1
        for backend in model.backends:
            for path, path_type in backend.paths:
                elbv2.create_rule(
                    ListenerArn=listener_arn, Priority=priority,
                    Conditions=[{"Field": "path-pattern", "Values": alb_path_pattern(path, path_type)}],
                    Actions=[{"Type": "forward", "TargetGroupArn": bindings[backend.tg_name].tg_arn}])
                priority += 1
        return listener_arn

    def _ensure_tgb(self, model: IngressModel, backend, binding: Binding) -> None:
        port: int | str = int(backend.service_port) if backend.service_port.isdigit() else backend.service_port
        body = {
            "apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding",
            "metadata": {"name": backend.tg_name, "namespace": backend.namespace,
                         "labels": {"ingress.k8s.aws/stack-name": model.name,
                                    "ingress.k8s.aws/stack-namespace": model.namespace}},
            "spec": {"targetGroupARN": binding.tg_arn, "targetType": backend.target_type,
                     "serviceRef": {"name": backend.service, "port": port}, "ipAddressType": "ipv4"},
        }
        existing = self.store.get(TGBS, backend.namespace, backend.tg_name)
        if existing is None:
            created = self.store.create(TGBS, body, namespace=backend.namespace)
        else:
            created = self.store.mutate(TGBS, backend.namespace, backend.tg_name,
                                        lambda o: o.__setitem__("spec", body["spec"]))
        generation = created["metadata"].get("generation", 1)
        self.store.mutate(TGBS, backend.namespace, backend.tg_name,
                          lambda o: o.setdefault("status", {}).__setitem__("observedGeneration", generation),
                          status=True)
        self.store.record_event(created, "SuccessfullyReconciled", "Successfully reconciled",
                                component="targetGroupBinding")

    # -- teardown -------------------------------------------------------------------------------
    def _drop_binding(self, binding: Binding) -> None:
        self.targets.forget(binding)
        try:
            self.store.delete(TGBS, binding.namespace, binding.tgb_name)
        except ApiError as exc:
            if exc.status != 404:
                raise

    def tear_down(self, deployed: Deployed) -> None:
        elbv2 = self.elbv2
        try:
            elbv2.delete_listener(ListenerArn=deployed.listener_arn)
        except elbv2.exceptions.ClientError:
            pass
        elbv2.delete_load_balancer(LoadBalancerArn=deployed.lb_arn)
        for binding in deployed.bindings.values():
            self._drop_binding(binding)
            try:
                elbv2.delete_target_group(TargetGroupArn=binding.tg_arn)
            except elbv2.exceptions.ClientError:
                pass
        if deployed.security_group:
            try:
                self.ec2.delete_security_group(GroupId=deployed.security_group)
            except self.ec2.exceptions.ClientError:
                pass


def _target_group_attributes(ing_ann: dict) -> dict[str, str]:
    raw = ing_ann.get(ANN + "target-group-attributes", "")
    pairs = [p.split("=", 1) for p in raw.split(",") if "=" in p]
    return {k.strip(): v.strip() for k, v in pairs}


def _deregistration_delay(ing_ann: dict) -> int:
    value = _target_group_attributes(ing_ann).get("deregistration_delay.timeout_seconds")
    return int(value) if value and value.isdigit() else DEREGISTRATION_DELAY_SECONDS
