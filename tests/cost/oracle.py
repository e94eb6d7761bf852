"""The business case recomputed from kubectl and aws CLI output, by the rules written here — not by
the product's cost code — so `status --json` can be checked against an independent reading.

Rules (DOMAIN.md 1.1-1.2 and 2.2; EC2 prices from the AWS on-demand page, eu-central-1, Linux):
* EC2 now: each node group instance at its on-demand price; a pod's share of its node =
  price x (cpu x vCPU rate + GiB x GB rate) / (node vCPU x vCPU rate + node GiB x GB rate), with
  the instance type's nominal vCPU and GiB; the rest of the node is "(unallocated)".
* A pod stays on EC2 when it is privileged, uses a host namespace or hostPath, or mounts a claim
  bound to a volume that is not EFS; DaemonSets stay too, one copy per remaining node.
* Fargate: CapacityProvisioned when present, else requests (+256 MiB) rounded up to the first
  supported vCPU/memory combination; price = vCPU x rate + GB x rate.
* Remaining EC2: here every staying pod and one copy of each DaemonSet fit on one node, so the
  smallest group is one node of the cheapest type whose allocatable holds their sum (EKS AMI
  kube-reserved: CPU 6 % + 1 % of the first two cores; memory 255 MiB + 11 MiB x max pods + 100 MiB).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import defaultdict

HOURS = 730
VCPU_RATE, GB_RATE = 0.04656, 0.00511          # eu-central-1 Fargate, DOMAIN.md 2.2
EC2 = {  # eu-central-1 on-demand USD/h, nominal vCPU, GiB, max pods (eni-max-pods)
    "t3.small": (0.024, 2, 2, 11), "t3.medium": (0.048, 2, 4, 17), "t3.large": (0.096, 2, 8, 35),
    "c5.large": (0.097, 2, 4, 29), "m5.large": (0.115, 2, 8, 29), "r5.large": (0.152, 2, 16, 29),
}
SIZES = [(0.25, [0.5, 1, 2]), (0.5, [1, 2, 3, 4]), (1, list(range(2, 9))), (2, list(range(4, 17))),
         (4, list(range(8, 31))), (8, list(range(16, 61, 4))), (16, list(range(32, 121, 8)))]
_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "": 1}


def kubectl(env, *args) -> dict:
    out = subprocess.run(["kubectl", *args, "-o", "json"], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def cpu(q: str) -> float:
    return float(q[:-1]) / 1000 if q.endswith("m") else float(q)


def mem(q: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", q).groups()
    return float(number) * _UNITS[unit]


def requests(spec: dict) -> tuple[float, float]:
    """(cores, bytes): sum of the app containers vs the largest init container; request or limit."""
    def one(c):
        r, lim = c.get("resources", {}).get("requests", {}), c.get("resources", {}).get("limits", {})
        return cpu(r.get("cpu", lim.get("cpu", "0"))), mem(r.get("memory", lim.get("memory", "0")))
    apps = [one(c) for c in spec["containers"]]
    inits = [one(c) for c in spec.get("initContainers", [])] or [(0, 0)]
    return (max(sum(a[0] for a in apps), max(i[0] for i in inits)),
            max(sum(a[1] for a in apps), max(i[1] for i in inits)))


def fargate_size(cores: float, memory: float) -> tuple[float, float]:
    need_gib = (memory + 256 * 2**20) / 2**30
    for vcpu, mems in SIZES:
        if vcpu >= cores - 1e-9:
            for m in mems:
                if m >= need_gib - 1e-9:
                    return vcpu, m
    raise AssertionError("too large for Fargate")


def weight(cores: float, memory: float) -> float:
    return cores * VCPU_RATE + memory / 2**30 * GB_RATE


def share(price: float, instance_type: str, cores: float, memory: float) -> float:
    _, vcpu, gib, _ = EC2[instance_type]
    return price * weight(cores, memory) / weight(vcpu, gib * 2**30)


def stays_on_ec2(pod: dict, pvcs: dict, pvs: dict) -> bool:
    spec = pod["spec"]
    if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
        return True
    if any((c.get("securityContext") or {}).get("privileged") for c in spec["containers"]):
        return True
    for v in spec.get("volumes", []):
        if "hostPath" in v:
            return True
        claim = v.get("persistentVolumeClaim")
        if claim:
            volume = pvcs.get((pod["metadata"]["namespace"], claim["claimName"]), {}).get("spec", {}).get("volumeName")
            driver = (pvs.get(volume, {}).get("spec", {}).get("csi") or {}).get("driver")
            if driver != "efs.csi.aws.com":
                return True
    return False


def allocatable(instance_type: str) -> tuple[float, float, int]:
    _, vcpu, gib, max_pods = EC2[instance_type]
    reserved = sum(60 if c == 1 else 10 if c == 2 else 5 if c <= 4 else 2.5 for c in range(1, vcpu + 1)) / 1000
    return vcpu - reserved, gib * 2**30 - (255 + 11 * max_pods + 100) * 2**20, max_pods


def aws_cli(env, *args) -> dict:
    out = subprocess.run(["aws", *args, "--output", "json"], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def business_case(env: dict, cluster: str) -> dict:
    nodes = kubectl(env, "get", "nodes")["items"]
    pods = [p for p in kubectl(env, "get", "pods", "-A")["items"]
            if p["status"].get("phase") not in ("Succeeded", "Failed") and not p["metadata"].get("deletionTimestamp")]
    pvcs = {(c["metadata"]["namespace"], c["metadata"]["name"]): c for c in kubectl(env, "get", "pvc", "-A")["items"]}
    pvs = {v["metadata"]["name"]: v for v in kubectl(env, "get", "pv")["items"]}
    ec2_nodes = {n["metadata"]["name"]: n["metadata"]["labels"]["node.kubernetes.io/instance-type"] for n in nodes
                 if n["metadata"]["labels"].get("eks.amazonaws.com/compute-type") != "fargate"}
    # The node groups, read from AWS, account for every EC2 node.
    groups = [aws_cli(env, "eks", "describe-nodegroup", "--cluster-name", cluster, "--nodegroup-name", g)["nodegroup"]
              for g in aws_cli(env, "eks", "list-nodegroups", "--cluster-name", cluster)["nodegroups"]]
    assert sorted(t for g in groups for t in [g["instanceTypes"][0]] * g["scalingConfig"]["desiredSize"]) == sorted(ec2_nodes.values())

    ns = defaultdict(lambda: defaultdict(float))
    for name, itype in ec2_nodes.items():
        price = EC2[itype][0]
        claimed = 0.0
        for p in pods:
            if p["spec"].get("nodeName") == name:
                part = share(price, itype, *requests(p["spec"]))
                ns[p["metadata"]["namespace"]]["ec2"] += part
                claimed += part
        ns["(unallocated)"]["ec2"] += price - claimed

    daemonsets: dict[str, tuple[str, tuple[float, float]]] = {}
    staying = []
    for p in pods:
        owner = (p["metadata"].get("ownerReferences") or [{}])[0]
        namespace = p["metadata"]["namespace"]
        if owner.get("kind") == "DaemonSet":
            key = f"{namespace}/{owner['name']}"
            daemonsets[key] = (namespace, max(daemonsets.get(key, (namespace, (0, 0)))[1], requests(p["spec"])))
            continue
        if stays_on_ec2(p, pvcs, pvs):
            staying.append(p)
            continue
        annotation = (p["metadata"].get("annotations") or {}).get("CapacityProvisioned")
        if annotation:
            vcpu, gb = (float(x) for x in re.fullmatch(r"([0-9.]+)vCPU ([0-9.]+)GB", annotation).groups())
        else:
            vcpu, gb = fargate_size(*requests(p["spec"]))
        price = vcpu * VCPU_RATE + gb * GB_RATE
        ns[namespace]["fargate_after"] += price
        if annotation:
            ns[namespace]["fargate_now"] += price

    members = [(p["metadata"]["namespace"], requests(p["spec"])) for p in staying] + list(daemonsets.values())
    total_cpu, total_mem = sum(r[0] for _, r in members), sum(r[1] for _, r in members)
    fits = [t for t in EC2 if allocatable(t)[0] >= total_cpu and allocatable(t)[1] >= total_mem
            and allocatable(t)[2] >= len(members)]
    remaining_type = min(fits, key=lambda t: (EC2[t][0], t)) if staying else None
    if remaining_type:
        price = EC2[remaining_type][0]
        claimed = 0.0
        for namespace, (c, m) in members:
            part = share(price, remaining_type, c, m)
            ns[namespace]["remaining"] += part
            claimed += part
        ns["(unallocated)"]["remaining"] += price - claimed
    return {"namespaces": {k: dict(v) for k, v in ns.items()}, "remaining_type": remaining_type,
            "staying": sorted(f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in staying),
            "daemonsets": sorted(daemonsets)}


# -- right-sizing ------------------------------------------------------------------------------
# Rules written here, not read from the product: per workload container, p95 (nearest rank: the
# value at rank ceil(0.95 n) of the sorted samples, replicas pooled) of the usage kubectl read from
# metrics.k8s.io, plus 20 % headroom, rounded up to a whole millicore and a whole MiB; the pod's
# Fargate size is the first supported combination holding the sum of those (+256 MiB); the monthly
# saving is (price now - price right-sized) x pods x 730.
HEADROOM = 0.20


def kubectl_raw(env, path: str) -> dict:
    out = subprocess.run(["kubectl", "get", "--raw", path], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def nearest_rank_p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[-(-95 * len(ordered) // 100) - 1]


def recommended(p95: float) -> int:
    """p95 + headroom rounded up to a whole unit (millicores, MiB)."""
    value = p95 * (1 + HEADROOM)
    whole = int(value)
    return whole if whole >= value - 1e-9 else whole + 1


def workload_of(pod: dict, replicasets: dict) -> str:
    meta = pod["metadata"]
    owner = (meta.get("ownerReferences") or [None])[0]
    if owner is None:
        return f"Pod/{meta['namespace']}/{meta['name']}"
    if owner["kind"] == "ReplicaSet":
        rs_owner = (replicasets[(meta["namespace"], owner["name"])]["metadata"].get("ownerReferences") or [owner])[0]
        return f"{rs_owner['kind']}/{meta['namespace']}/{rs_owner['name']}"
    return f"{owner['kind']}/{meta['namespace']}/{owner['name']}"


def price(size: tuple[float, float]) -> float:
    return size[0] * VCPU_RATE + size[1] * GB_RATE


def current_size(pod: dict) -> tuple[float, float]:
    annotation = (pod["metadata"].get("annotations") or {}).get("CapacityProvisioned")
    if annotation:
        return tuple(float(x) for x in re.fullmatch(r"([0-9.]+)vCPU ([0-9.]+)GB", annotation).groups())
    return fargate_size(*requests(pod["spec"]))


def rightsizing(env, samples: dict, first: str, last: str) -> dict:
    """Per workload moving to Fargate: pods, current and right-sized size, the recommendation per
    container and the monthly saving, from ``samples`` {(ns, pod, container, timestamp): (cores, bytes)}
    taken between ``first`` and ``last`` (RFC 3339, the product's window)."""
    pods = [p for p in kubectl(env, "get", "pods", "-A")["items"]
            if p["status"].get("phase") not in ("Succeeded", "Failed") and not p["metadata"].get("deletionTimestamp")]
    replicasets = {(r["metadata"]["namespace"], r["metadata"]["name"]): r for r in kubectl(env, "get", "rs", "-A")["items"]}
    pvcs = {(c["metadata"]["namespace"], c["metadata"]["name"]): c for c in kubectl(env, "get", "pvc", "-A")["items"]}
    pvs = {v["metadata"]["name"]: v for v in kubectl(env, "get", "pv")["items"]}
    by_pod = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in pods}
    pooled: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for (namespace, pod, container, stamp), usage in samples.items():
        if first <= stamp <= last and (namespace, pod) in by_pod:
            pooled[(workload_of(by_pod[(namespace, pod)], replicasets), container)].append(usage)
    groups: dict[str, list[dict]] = defaultdict(list)
    for p in pods:
        owner = (p["metadata"].get("ownerReferences") or [{}])[0]
        if owner.get("kind") != "DaemonSet" and not stays_on_ec2(p, pvcs, pvs):
            groups[workload_of(p, replicasets)].append(p)
    result = {}
    for workload, members in groups.items():
        spec = members[0]["spec"]
        containers, total_cpu, total_mem = {}, 0.0, 0.0
        for c in spec["containers"]:
            usage = pooled.get((workload, c["name"]))
            if usage:
                p95_cpu = nearest_rank_p95([u[0] for u in usage]) * 1000
                p95_mem = nearest_rank_p95([u[1] for u in usage]) / 2**20
                cpu_m, mem_mib = recommended(p95_cpu), recommended(p95_mem)
                containers[c["name"]] = {"samples": len(usage), "p95_cpu_m": p95_cpu, "p95_mem_mib": p95_mem,
                                         "cpu_m": cpu_m, "mem_mib": mem_mib}
                total_cpu, total_mem = total_cpu + cpu_m / 1000, total_mem + mem_mib * 2**20
            else:
                cores, memory = requests({"containers": [c]})
                total_cpu, total_mem = total_cpu + cores, total_mem + memory
        now = current_size(members[0])
        sized = fargate_size(total_cpu, total_mem) if containers else now
        result[workload] = {"pods": len(members), "current": now, "rightsized": sized, "containers": containers,
                            "saving": sum(price(current_size(m)) - price(sized) for m in members) * HOURS}
    return result
