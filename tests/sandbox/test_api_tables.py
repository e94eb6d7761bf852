"""Server-side tables: the columns and cells `kubectl get` prints, computed in simulated time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import aiohttp
import pytest

from iagent_sandbox.clock import rfc3339
from iagent_sandbox.kube import tables
from iagent_sandbox.kube.resources import rt
from tests.sandbox.kube_api_harness import running_server

NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"


def ago(seconds: float) -> str:
    return rfc3339(NOW - timedelta(seconds=seconds))


@pytest.mark.parametrize("seconds,text", [
    (0, "0s"), (5, "5s"), (119, "119s"), (150, "2m30s"), (300, "5m"), (600, "10m"),
    (3 * 3600 - 1, "179m"), (5 * 3600, "5h"), (5 * 3600 + 600, "5h10m"), (20 * 3600, "20h"),
    (3 * 86400 + 4 * 3600, "3d4h"), (30 * 86400, "30d"), (800 * 86400, "2y70d"), (-1, "0s"),
    (-5, "<invalid>"),
])
def test_human_duration_matches_kubectl(seconds, text):
    assert tables.human_duration(seconds) == text


def _pod(name: str, *, phase: str = "Running", statuses=None, init=None, init_specs=0,
         deleting: bool = False, node: str | None = "ip-10-0-1-5.eu-central-1.compute.internal",
         containers: int = 1, conditions=None, gates=None) -> dict:
    pod = {
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(300)},
        "spec": {"containers": [{"name": f"c{i}", "image": "nginx"} for i in range(containers)]},
        "status": {"phase": phase, "podIP": "10.0.1.17", "podIPs": [{"ip": "10.0.1.17"}],
                   "conditions": conditions or []},
    }
    if node:
        pod["spec"]["nodeName"] = node
    if statuses is not None:
        pod["status"]["containerStatuses"] = statuses
    if init is not None:
        pod["status"]["initContainerStatuses"] = init
        pod["spec"]["initContainers"] = [{"name": f"i{i}", "image": "busybox"} for i in range(init_specs)]
    if deleting:
        pod["metadata"]["deletionTimestamp"] = ago(-30)
    if gates:
        pod["spec"]["readinessGates"] = [{"conditionType": g} for g in gates]
    return pod


def _running(name="c0", restarts=0, last_finished=None, ready=True) -> dict:
    cs = {"name": name, "ready": ready, "restartCount": restarts,
          "state": {"running": {"startedAt": ago(100)}}}
    if last_finished:
        cs["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": last_finished}}
    return cs


def _waiting(reason: str, name="c0", restarts=0, last_finished=None) -> dict:
    cs = {"name": name, "ready": False, "restartCount": restarts, "state": {"waiting": {"reason": reason}}}
    if last_finished:
        cs["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": last_finished}}
    return cs


def _cells(pod: dict) -> dict:
    names = [c.name for c in tables.POD_COLUMNS]
    return dict(zip(names, tables.table_row("pods", pod, NOW)["cells"]))


@pytest.mark.parametrize("pod,ready,status,restarts", [
    (_pod("pending", phase="Pending", node=None), "0/1", "Pending", "0"),
    (_pod("creating", phase="Pending", statuses=[_waiting("ContainerCreating")]), "0/1", "ContainerCreating", "0"),
    (_pod("running", statuses=[_running()]), "1/1", "Running", "0"),
    (_pod("half", containers=2, statuses=[_running("c0"), _running("c1", ready=False)]), "1/2", "Running", "0"),
    (_pod("done", phase="Succeeded", statuses=[{"name": "c0", "ready": False, "restartCount": 0,
                                                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]),
     "0/1", "Completed", "0"),
    (_pod("crash", statuses=[_waiting("CrashLoopBackOff", restarts=3, last_finished=ago(45))]),
     "0/1", "CrashLoopBackOff", "3 (45s ago)"),
    (_pod("pull", phase="Pending", statuses=[_waiting("ErrImagePull")]), "0/1", "ErrImagePull", "0"),
    (_pod("backoff", phase="Pending", statuses=[_waiting("ImagePullBackOff")]), "0/1", "ImagePullBackOff", "0"),
    (_pod("bye", statuses=[_running()], deleting=True), "1/1", "Terminating", "0"),
    (_pod("init", phase="Pending", init=[{"name": "i0", "restartCount": 0,
                                          "state": {"running": {"startedAt": ago(5)}}}], init_specs=2,
          statuses=[_waiting("PodInitializing")]), "0/1", "Init:0/2", "0"),
    (_pod("initfail", phase="Pending", init_specs=1, init=[_waiting("CrashLoopBackOff", name="i0")],
          statuses=[_waiting("PodInitializing")]), "0/1", "Init:CrashLoopBackOff", "0"),
])
def test_pod_ready_status_restarts(pod, ready, status, restarts):
    cells = _cells(pod)
    assert (cells["Ready"], cells["Status"], cells["Restarts"]) == (ready, status, restarts)
    assert cells["Age"] == "5m"


def test_pod_wide_columns():
    pod = _pod("web", statuses=[_running()], gates=["target-health.elbv2.k8s.aws/k8s-web"],
               conditions=[{"type": "target-health.elbv2.k8s.aws/k8s-web", "status": "True"}])
    cells = _cells(pod)
    assert cells["IP"] == "10.0.1.17"
    assert cells["Node"] == "ip-10-0-1-5.eu-central-1.compute.internal"
    assert cells["Nominated Node"] == "<none>"
    assert cells["Readiness Gates"] == "1/1"
    unscheduled = _cells(_pod("p", phase="Pending", node=None))
    assert unscheduled["Node"] == "<none>" and unscheduled["Readiness Gates"] == "<none>"
    defs = {c["name"]: c["priority"] for c in tables.build_table("pods", [], NOW)["columnDefinitions"]}
    assert defs == {"Name": 0, "Ready": 0, "Status": 0, "Restarts": 0, "Age": 0, "IP": 1, "Node": 1,
                    "Nominated Node": 1, "Readiness Gates": 1}


def test_node_columns():
    node = {"metadata": {"name": "ip-10-0-1-5.eu-central-1.compute.internal", "creationTimestamp": ago(3 * 86400),
                         "labels": {"eks.amazonaws.com/nodegroup": "existing-nodes"}},
            "spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "addresses": [{"type": "InternalIP", "address": "10.0.1.5"}],
                       "nodeInfo": {"kubeletVersion": "v1.31.2-eks-7f9249a", "osImage": "Amazon Linux 2023",
                                    "kernelVersion": "6.1.112-122.189.amzn2023.x86_64",
                                    "containerRuntimeVersion": "containerd://1.7.22"}}}
    cells = tables.table_row("nodes", node, NOW)["cells"]
    assert cells == ["ip-10-0-1-5.eu-central-1.compute.internal", "Ready,SchedulingDisabled", "<none>",
                     "3d", "v1.31.2-eks-7f9249a", "10.0.1.5", "<none>", "Amazon Linux 2023",
                     "6.1.112-122.189.amzn2023.x86_64", "containerd://1.7.22"]


def test_workload_service_ingress_event_columns():
    dep = {"metadata": {"name": "web", "creationTimestamp": ago(90)},
           "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"},
                                                         {"name": "log", "image": "fluent-bit"}]}}},
           "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}
    assert tables.table_row("deployments", dep, NOW)["cells"] == [
        "web", "2/3", 3, 2, "90s", "web,log", "nginx:1.27,fluent-bit", "app=web"]
    svc = {"metadata": {"name": "web", "creationTimestamp": ago(60)},
           "spec": {"type": "LoadBalancer", "clusterIP": "10.100.3.4", "selector": {"app": "web"},
                    "ports": [{"port": 80, "protocol": "TCP", "nodePort": 31234}]},
           "status": {"loadBalancer": {}}}
    assert tables.table_row("services", svc, NOW)["cells"] == [
        "web", "LoadBalancer", "10.100.3.4", "<pending>", "80:31234/TCP", "60s", "app=web"]
    ing = {"metadata": {"name": "web", "creationTimestamp": ago(60)},
           "spec": {"ingressClassName": "alb", "rules": [{"http": {}}]},
           "status": {"loadBalancer": {"ingress": [{"hostname": "k8s-default-web-0123456789.eu-central-1.elb.amazonaws.com"}]}}}
    assert tables.table_row("ingresses", ing, NOW)["cells"] == [
        "web", "alb", "*", "k8s-default-web-0123456789.eu-central-1.elb.amazonaws.com", "80", "60s"]
    ev = {"metadata": {"name": "web-1.17a", "creationTimestamp": ago(200)}, "type": "Warning",
          "reason": "FailedScheduling", "message": "no nodes available to schedule pods ",
          "involvedObject": {"kind": "Pod", "name": "web-1"}, "source": {"component": "default-scheduler"},
          "firstTimestamp": ago(200), "lastTimestamp": ago(20), "count": 4}
    assert tables.table_row("events", ev, NOW)["cells"] == [
        "20s", "Warning", "FailedScheduling", "pod/web-1", "", "default-scheduler",
        "no nodes available to schedule pods", "3m20s", 4, "web-1.17a"]
    tgb = {"metadata": {"name": "k8s-default-web", "creationTimestamp": ago(10)},
           "spec": {"serviceRef": {"name": "web", "port": 80}, "targetType": "ip",
                    "targetGroupARN": "arn:aws:elasticloadbalancing:eu-central-1:1:targetgroup/x/y"}}
    assert tables.table_row("targetgroupbindings", tgb, NOW)["cells"] == [
        "k8s-default-web", "web", "80", "ip", "arn:aws:elasticloadbalancing:eu-central-1:1:targetgroup/x/y", "10s"]
    generic = tables.build_table("secrets", [], NOW)["columnDefinitions"]
    assert [c["name"] for c in generic] == ["Name", "Type", "Data", "Age"]
    assert [c["name"] for c in tables.build_table("serviceaccounts", [], NOW)["columnDefinitions"]] == [
        "Name", "Secrets", "Age"]


def test_volume_columns():
    pvc = {"metadata": {"name": "data-vectordb-0", "creationTimestamp": ago(7200)},
           "spec": {"volumeName": "pvc-0a1b", "storageClassName": "gp2", "volumeMode": "Filesystem"},
           "status": {"phase": "Bound", "capacity": {"storage": "20Gi"},
                      "accessModes": ["ReadWriteOnce"]}}
    assert tables.table_row("persistentvolumeclaims", pvc, NOW)["cells"] == [
        "data-vectordb-0", "Bound", "pvc-0a1b", "20Gi", "RWO", "gp2", "<unset>", "120m", "Filesystem"]
    pv = {"metadata": {"name": "pvc-0a1b", "creationTimestamp": ago(7200)},
          "spec": {"capacity": {"storage": "20Gi"}, "accessModes": ["ReadWriteOnce"],
                   "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "gp2",
                   "claimRef": {"namespace": "prod", "name": "data-vectordb-0"}},
          "status": {"phase": "Bound"}}
    assert tables.table_row("persistentvolumes", pv, NOW)["cells"] == [
        "pvc-0a1b", "20Gi", "RWO", "Delete", "Bound", "prod/data-vectordb-0", "gp2", "<unset>", "",
        "120m", "<unset>"]
    assert [c["name"] for c in tables.build_table("nosuchkind", [], NOW)["columnDefinitions"]] == ["Name", "Age"]


async def test_tables_over_http_use_the_sandbox_clock(tmp_path):
    start = datetime(2030, 1, 1, tzinfo=timezone.utc)
    async with running_server(tmp_path, start=start) as api:
        api.store.create(rt("pods"), {"metadata": {"name": "web", "labels": {"app": "web"}},
                                      "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
                         "default")
        async with aiohttp.ClientSession() as s:
            url = f"{api.url}/api/v1/namespaces/default/pods?labelSelector=app%3Dweb"
            async with s.get(url, headers=api.headers(Accept=TABLE_ACCEPT), ssl=api.ssl) as r:
                table = await r.json()
            async with s.get(url.replace("pods?", "pods/web?") + "&includeObject=Object",
                             headers=api.headers(Accept=TABLE_ACCEPT), ssl=api.ssl) as r:
                single = await r.json()
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"]["resourceVersion"]
    row = table["rows"][0]
    # The pod was created in simulated 2030; its AGE is measured against the same clock.
    assert row["cells"][:4] == ["web", "0/1", "Pending", "0"]
    assert row["cells"][4].endswith("s")
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["labels"] == {"app": "web"}
    assert single["rows"][0]["object"]["kind"] == "Pod"
    assert single["rows"][0]["object"]["spec"]["containers"][0]["name"] == "c"
