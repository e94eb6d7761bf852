"""The endpoints controller: for every Service with a selector, an Endpoints object of the same
name listing the selected pods' IPs — ready ones under ``addresses``, the rest under
``notReadyAddresses`` — with named target ports resolved against each pod's container ports
(pkg/controller/endpoint). Pods that are terminating or have no IP yet are left out.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from ..kube.resources import rt
from . import kubeutil as ku

SERVICES, ENDPOINTS = rt("services"), rt("endpoints")
COMPONENT = "endpoint-controller"


def _container_port(pod: dict, target) -> int | None:
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for container in pod["spec"].get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("name") == target:
                return port.get("containerPort")
    return None


def endpoint_subsets(service: dict, pods: list[dict]) -> list[dict]:
    groups: dict[tuple, dict[str, list]] = defaultdict(lambda: {"addresses": [], "notReadyAddresses": []})
    publish_unready = service["spec"].get("publishNotReadyAddresses", False)
    for pod in pods:
        ip = (pod.get("status") or {}).get("podIP")
        if not ip or ku.is_terminating(pod) or ku.is_finished(pod):
            continue
        ports = []
        for sp in service["spec"].get("ports") or ():
            port = _container_port(pod, sp.get("targetPort", sp.get("port")))
            if port is None:
                continue
            entry = {"port": port, "protocol": sp.get("protocol", "TCP")}
            if sp.get("name"):
                entry["name"] = sp["name"]
            ports.append(entry)
        if service["spec"].get("ports") and not ports:
            continue
        key = tuple(sorted((p.get("name", ""), p["port"], p["protocol"]) for p in ports))
        address = {"ip": ip, "targetRef": {"kind": "Pod", "namespace": pod["metadata"]["namespace"],
                                           "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}}
        if pod["spec"].get("nodeName"):
            address["nodeName"] = pod["spec"]["nodeName"]
        bucket = "addresses" if ku.pod_ready(pod) or publish_unready else "notReadyAddresses"
        groups[key][bucket].append(address)
        groups[key]["ports"] = ports
    subsets = []
    for key in sorted(groups):
        subset = {k: sorted(v, key=lambda a: a["ip"]) for k, v in groups[key].items() if k != "ports" and v}
        if groups[key].get("ports"):
            subset["ports"] = groups[key]["ports"]
        subsets.append(subset)
    return subsets


class EndpointsController:
    def __init__(self, world) -> None:
        self.world = world
        self.store = world.store
        self.queue = ku.WorkQueue()

    def on_service(self, event: str, service: dict) -> None:
        self.queue.add(ku.obj_key(service))

    def on_pod(self, event: str, pod: dict) -> None:
        namespace = pod["metadata"]["namespace"]
        services, _ = self.store.list(SERVICES, namespace)
        labels = pod["metadata"].get("labels") or {}
        for service in services:
            selector = service["spec"].get("selector")
            if selector and all(labels.get(k) == v for k, v in selector.items()):
                self.queue.add(ku.obj_key(service))

    def reconcile(self, key: tuple[str, str]) -> None:
        namespace, name = key
        service = self.store.get(SERVICES, namespace, name)
        if service is None or not service["spec"].get("selector"):
            return  # a deleted Service's Endpoints go in on_service_event
        selector = ",".join(f"{k}={v}" for k, v in sorted(service["spec"]["selector"].items()))
        selected = self.store.scan(ku.PODS, namespace, label_selector=selector)
        subsets = endpoint_subsets(service, selected)
        existing = self.store.get(ENDPOINTS, namespace, name)
        labels = dict(service["metadata"].get("labels") or {})
        if existing is None:
            body = {"apiVersion": "v1", "kind": "Endpoints",
                    "metadata": {"name": name, "namespace": namespace, "labels": labels}}
            if subsets:
                body["subsets"] = subsets
            self.store.create(ENDPOINTS, body)
            return

        def apply(obj: dict) -> None:
            obj["metadata"]["labels"] = labels
            if subsets:
                obj["subsets"] = subsets
            else:
                obj.pop("subsets", None)
        self.store.mutate(ENDPOINTS, namespace, name, apply)

    def on_service_event(self, event: str, service: dict) -> None:
        if event == "DELETED":
            meta = service["metadata"]
            if self.store.get(ENDPOINTS, meta["namespace"], meta["name"]) is not None:
                self.store.delete(ENDPOINTS, meta["namespace"], meta["name"])
        else:
            self.on_service(event, service)

    async def run(self) -> None:
        await asyncio.gather(ku.informer(self.store, SERVICES, self.on_service_event),
                             ku.informer(self.store, ku.PODS, self.on_pod),
                             ku.run_workers(self.queue, self.reconcile, COMPONENT))


async def run(world) -> None:
    await EndpointsController(world).run()
