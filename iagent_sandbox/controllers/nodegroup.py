"""The EKS managed node group: EC2 instances in moto and Node objects in step with desiredSize.

Scale-out launches instances at once (RunInstances in the node group's subnets, spread over AZs,
tagged like EKS's Auto Scaling group tags them); each Node appears only when its kubelet has
booted and registered, after a drawn ~90-150 s. Scale-in picks a victim the way the ASG does (the
AZ with the most instances, the newest instance there), cordons and drains the node (its pods are
deleted so their controllers recreate them elsewhere; DaemonSet pods stay), then terminates the
instance and the Node goes away a few seconds later. An instance terminated behind the node
group's back loses its Node, and the group launches a replacement, as an ASG does.

moto gives no notification when UpdateNodegroupConfig changes desiredSize, so the controller reads
the node groups' desiredSize about once per wall second (an in-memory read) and reconciles with
the EC2 API only when it changed, while nodes join or leave, and once a simulated minute.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from ..clock import rfc3339
from ..kube.errors import ApiError
from ..kube.resources import rt
from .awslinks import Wakeup, aws_client, moto_lock
from .node_shape import DEFAULT_INSTANCE_TYPE, build_node

log = logging.getLogger(__name__)

NODES, PODS = rt("nodes"), rt("pods")
NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup"
JOIN_SECONDS = (90.0, 150.0)        # instance launch + AMI boot + kubelet registration
LEAVE_SECONDS = (5.0, 20.0)         # terminate -> node object removed by the cloud controller
DRAIN_TIMEOUT = 120.0               # eksctl/managed node group drain waits at most this long
POLL_WALL_SECONDS = 1.0
POLL_SIM_SECONDS = 15.0
MIN_POLL_WALL = 0.1
RESYNC_SECONDS = 60.0               # also catches instances terminated behind the group's back
LIVE_STATES = ("pending", "running")
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


def _image_id(nodegroup: dict) -> str:
    """A stable AMI id per release version (what the eks.amazonaws.com/nodegroup-image label shows)."""
    release = nodegroup.get("releaseVersion") or nodegroup.get("version") or "1.31"
    return "ami-0" + hashlib.sha256(f"{nodegroup.get('amiType')}:{release}".encode()).hexdigest()[:16]


def _tags(instance: dict) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in instance.get("Tags") or []}


class NodegroupController:
    def __init__(self, world) -> None:
        self.world = world
        self.cluster = world.cluster_name
        self.wakeup = Wakeup(world.clock)
        self._joining: dict[str, asyncio.Task] = {}    # instance id -> join task
        self._leaving: dict[str, asyncio.Task] = {}    # instance id -> drain/terminate task
        self._launches = 0
        self._departures = 0
        self._order: dict[str, int] = {}                # instance id -> launch sequence

    # -- AWS reads ------------------------------------------------------------------------------
    def _nodegroups(self) -> list[dict]:
        eks = aws_client(self.world, "eks")
        names = eks.list_nodegroups(clusterName=self.cluster).get("nodegroups", [])
        return [eks.describe_nodegroup(clusterName=self.cluster, nodegroupName=n)["nodegroup"] for n in names]

    def _instances(self, nodegroup: str) -> list[dict]:
        ec2 = aws_client(self.world, "ec2")
        pages = ec2.describe_instances(Filters=[
            {"Name": "tag:eks:nodegroup-name", "Values": [nodegroup]},
            {"Name": "tag:eks:cluster-name", "Values": [self.cluster]},
            {"Name": "instance-state-name", "Values": list(LIVE_STATES)}])
        found = [i for r in pages["Reservations"] for i in r["Instances"]]
        # Oldest first, in the order this controller launched them (moto's LaunchTime is wall
        # clock to the second and its ids are random: neither orders repeatably).
        return sorted(found, key=lambda i: (self._order.get(i["InstanceId"], 0), i["PrivateIpAddress"]))

    def _subnet_zones(self, subnet_ids: list[str]) -> dict[str, str]:
        if not subnet_ids:
            return {}
        subnets = aws_client(self.world, "ec2").describe_subnets(SubnetIds=subnet_ids)["Subnets"]
        return {s["SubnetId"]: s["AvailabilityZone"] for s in subnets}

    # -- reconcile ------------------------------------------------------------------------------
    def reconcile(self) -> None:
        for nodegroup in self._nodegroups():
            if nodegroup.get("status") in ("CREATING", "DELETING", "CREATE_FAILED"):
                continue
            self._reconcile_group(nodegroup)
        self._forget_orphan_nodes()

    def _reconcile_group(self, nodegroup: dict) -> None:
        name = nodegroup["nodegroupName"]
        desired = int((nodegroup.get("scalingConfig") or {}).get("desiredSize", 0))
        instances = [i for i in self._instances(name) if i["InstanceId"] not in self._leaving]
        for instance in instances:
            iid = instance["InstanceId"]
            if iid not in self._joining and self._node_of(iid) is None:
                # Running without a Node (launched before this controller started, or its
                # join was interrupted): it joins after the rest of its boot time.
                self._start_join(nodegroup, instance)
        missing = desired - len(instances)
        if missing > 0:
            self._launch(nodegroup, instances, missing)
        elif missing < 0:
            for victim in self._victims(instances, -missing):
                self._start_leave(victim)

    def _launch(self, nodegroup: dict, current: list[dict], count: int) -> None:
        zones = self._subnet_zones(nodegroup.get("subnets") or [])
        if not zones:
            log.warning("node group %s has no subnets; cannot launch nodes", nodegroup["nodegroupName"])
            return
        per_zone = {z: 0 for z in zones.values()}
        for inst in current:
            zone = inst.get("Placement", {}).get("AvailabilityZone")
            if zone in per_zone:
                per_zone[zone] += 1
        ec2 = aws_client(self.world, "ec2")
        instance_type = (nodegroup.get("instanceTypes") or [DEFAULT_INSTANCE_TYPE])[0]
        asg = ((nodegroup.get("resources") or {}).get("autoScalingGroups") or [{}])[0].get("name", "")
        for _ in range(count):
            zone = min(sorted(per_zone), key=lambda z: per_zone[z])   # ASG balances AZs
            per_zone[zone] += 1
            subnet = sorted(s for s, z in zones.items() if z == zone)[0]
            tags = [{"Key": "eks:nodegroup-name", "Value": nodegroup["nodegroupName"]},
                    {"Key": "eks:cluster-name", "Value": self.cluster},
                    {"Key": f"kubernetes.io/cluster/{self.cluster}", "Value": "owned"},
                    {"Key": "k8s.io/cluster-autoscaler/enabled", "Value": "true"}]
            if asg:
                tags.append({"Key": "aws:autoscaling:groupName", "Value": asg})
            reply = ec2.run_instances(
                ImageId=_image_id(nodegroup), InstanceType=instance_type, MinCount=1, MaxCount=1,
                SubnetId=subnet, TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])
            self._launches += 1
            self._order[reply["Instances"][0]["InstanceId"]] = self._launches
            self._start_join(nodegroup, reply["Instances"][0])

    @staticmethod
    def _victims(instances: list[dict], count: int) -> list[dict]:
        remaining = list(instances)
        chosen = []
        for _ in range(count):
            by_zone: dict[str, list[dict]] = {}
            for inst in remaining:
                by_zone.setdefault(inst.get("Placement", {}).get("AvailabilityZone", ""), []).append(inst)
            zone = max(sorted(by_zone), key=lambda z: len(by_zone[z]))
            victim = by_zone[zone][-1]   # newest in the fullest AZ
            remaining.remove(victim)
            chosen.append(victim)
        return chosen

    # -- join / leave ---------------------------------------------------------------------------
    def _start_join(self, nodegroup: dict, instance: dict) -> None:
        iid = instance["InstanceId"]
        self._joining[iid] = asyncio.create_task(self._join(nodegroup, instance), name=f"node-join:{iid}")

    async def _join(self, nodegroup: dict, instance: dict) -> None:
        iid = instance["InstanceId"]
        try:
            # Keyed by what a seed reproduces (moto's instance ids are not seeded).
            key = f"nodegroup:join:{nodegroup['nodegroupName']}:{self._launches}:{instance['PrivateIpAddress']}"
            await self.world.clock.sleep(self.world.clock.draw(key, *JOIN_SECONDS))
            if iid in self._leaving:
                return
            self._register_node(nodegroup, instance)
        finally:
            self._joining.pop(iid, None)

    def _register_node(self, nodegroup: dict, instance: dict) -> None:
        store, clock = self.world.store, self.world.clock
        now = rfc3339(clock.now())
        node = build_node(
            instance_id=instance["InstanceId"], private_ip=instance["PrivateIpAddress"],
            zone=instance["Placement"]["AvailabilityZone"], region=self.world.region,
            instance_type=instance.get("InstanceType", DEFAULT_INSTANCE_TYPE),
            image_id=instance.get("ImageId", _image_id(nodegroup)),
            nodegroup=nodegroup["nodegroupName"], k8s_version=nodegroup.get("version", "1.31"),
            capacity_type=nodegroup.get("capacityType") or "ON_DEMAND",
            extra_labels=nodegroup.get("labels"), taints=nodegroup.get("taints"), now=now)
        name = node["metadata"]["name"]
        try:
            created = store.create(NODES, node)
        except ApiError as exc:
            if exc.status != 409:
                raise
            return
        store.record_event(created, "Starting", "Starting kubelet.", component="kubelet", host=name)
        store.record_event(created, "NodeReady", f"Node {name} status is now: NodeReady",
                           component="kubelet", host=name)
        store.record_event(created, "RegisteredNode",
                           f"Node {name} event: Registered Node {name} in Controller",
                           component="node-controller")

    def _node_of(self, instance_id: str) -> dict | None:
        for node in self._group_nodes():
            if node["spec"].get("providerID", "").endswith("/" + instance_id):
                return node
        return None

    def _group_nodes(self) -> list[dict]:
        nodes, _ = self.world.store.list(NODES, label_selector=NODEGROUP_LABEL)
        return nodes

    def _start_leave(self, instance: dict) -> None:
        iid = instance["InstanceId"]
        if iid in self._leaving:
            return
        join = self._joining.pop(iid, None)
        if join is not None:
            join.cancel()
        self._leaving[iid] = asyncio.create_task(self._leave(iid), name=f"node-leave:{iid}")

    async def _leave(self, instance_id: str) -> None:
        clock = self.world.clock
        self._departures += 1
        key = f"nodegroup:leave:{self._departures}"
        try:
            node = self._node_of(instance_id)
            if node is not None:
                name = node["metadata"]["name"]
                self._cordon(name)
                await self._drain(name)
            aws_client(self.world, "ec2").terminate_instances(InstanceIds=[instance_id])
            await clock.sleep(clock.draw(key, *LEAVE_SECONDS))
            if node is not None:
                self._remove_node(node["metadata"]["name"])
        finally:
            self._leaving.pop(instance_id, None)
            self.wakeup.set()

    def _cordon(self, name: str) -> None:
        def cordon(node: dict) -> None:
            node["spec"]["unschedulable"] = True
            taints = node["spec"].setdefault("taints", [])
            if not any(t.get("key") == UNSCHEDULABLE_TAINT["key"] for t in taints):
                taints.append({**UNSCHEDULABLE_TAINT, "timeAdded": rfc3339(self.world.clock.now())})
        node = self.world.store.mutate(NODES, None, name, cordon)
        if node is not None:
            self.world.store.record_event(node, "NodeNotSchedulable",
                                          f"Node {name} status is now: NodeNotSchedulable",
                                          component="kubelet", host=name)

    def _pods_on(self, node_name: str) -> list[dict]:
        pods, _ = self.world.store.list(PODS, field_selector=f"spec.nodeName={node_name}")
        return pods

    @staticmethod
    def _is_daemon(pod: dict) -> bool:
        return any(ref.get("kind") == "DaemonSet" for ref in pod["metadata"].get("ownerReferences") or [])

    async def _drain(self, node_name: str) -> None:
        """kubectl drain --ignore-daemonsets: evict, then wait for the pods to be gone."""
        store, clock = self.world.store, self.world.clock
        for pod in self._pods_on(node_name):
            if self._is_daemon(pod) or pod["metadata"].get("deletionTimestamp"):
                continue
            try:
                store.delete(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
            except ApiError as exc:
                if exc.status != 404:
                    raise
        deadline = clock.elapsed() + DRAIN_TIMEOUT
        while clock.elapsed() < deadline:
            if not [p for p in self._pods_on(node_name) if not self._is_daemon(p)]:
                return
            await clock.sleep(5.0)

    def _remove_node(self, name: str) -> None:
        store = self.world.store
        try:
            store.delete(NODES, None, name)
        except ApiError as exc:
            if exc.status != 404:
                raise
        # The pod garbage collector force-deletes pods bound to a node that no longer exists.
        for pod in self._pods_on(name):
            try:
                store.delete(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"],
                             grace_period_seconds=0)
            except ApiError as exc:
                if exc.status != 404:
                    raise

    def _forget_orphan_nodes(self) -> None:
        """Nodes whose instance was terminated outside the node group (aws ec2 terminate-instances)."""
        live = set()
        groups = {n["metadata"]["labels"].get(NODEGROUP_LABEL) for n in self._group_nodes()}
        for group in groups:
            live.update(i["InstanceId"] for i in self._instances(group))
        for node in self._group_nodes():
            iid = node["spec"].get("providerID", "").rsplit("/", 1)[-1]
            if iid not in live and iid not in self._leaving:
                self._remove_node(node["metadata"]["name"])

    # -- loop -----------------------------------------------------------------------------------
    def _signature(self) -> tuple:
        """What decides the node count: each group's desiredSize and status (read without the
        API round trip; a full reconcile runs only when this changes)."""
        with moto_lock(self.world):
            cluster = self.world.aws.backend("eks").clusters.get(self.cluster)
            names = sorted(cluster.nodegroups) if cluster else []
        groups = [self.world.aws.nodegroup(self.cluster, n) for n in names]
        return tuple((g["nodegroupName"], g.get("status"), (g.get("scalingConfig") or {}).get("desiredSize"))
                     for g in groups if g)

    async def run(self) -> None:
        clock = self.world.clock
        last_signature, last_full = None, -RESYNC_SECONDS
        try:
            while True:
                signature = self._signature()
                if signature != last_signature or clock.elapsed() - last_full >= RESYNC_SECONDS:
                    try:
                        self.reconcile()
                        last_signature, last_full = signature, clock.elapsed()
                    except ApiError as exc:
                        log.warning("nodegroup: %s", exc.message)
                await self.wakeup.wait(poll_interval(clock))
        finally:
            for task in [*self._joining.values(), *self._leaving.values()]:
                task.cancel()


def poll_interval(clock) -> float:
    """Simulated seconds between reads of the node groups: once per wall second, or every
    POLL_SIM_SECONDS when the clock runs so fast that a wall second would hide a whole scaling
    step, but never more than ten times per wall second."""
    return max(MIN_POLL_WALL * clock.rate(), min(POLL_WALL_SECONDS * clock.rate(), POLL_SIM_SECONDS))


async def run(world) -> None:
    await NodegroupController(world).run()
