"""The object store: create defaults and errors, updates, graceful deletion, GC, namespaces."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta

import pytest

from iagent_sandbox.clock import parse_rfc3339, rfc3339
from iagent_sandbox.kube.resources import RESOURCES, rt
from iagent_sandbox.kube.store import ApiError

from .store_fixtures import START, deployment_body, new_store, owner_ref, pod_body

PODS, DEPLOY, RS, NS, SVC, NODES = (rt("pods"), rt("deploy"), rt("rs"), rt("ns"), rt("svc"),
                                    rt("nodes"))


def raises(status: int, reason: str):
    class Check:
        def __enter__(self):
            self.ctx = pytest.raises(ApiError)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            err = self.info.value
            assert (err.status, err.reason) == (status, reason), err.to_status()
            return handled
    return Check()


# -- resource types -------------------------------------------------------------------------------

def test_resource_lookup_by_any_name():
    assert rt("pods") is rt("Pod") is rt("po") is rt("pod")
    assert rt("deploy") is rt("deployments.apps") is rt("Deployment")
    assert rt("deploy").api_version == "apps/v1" and rt("pods").group_version == "v1"
    assert rt("targetgroupbindings").kind == "TargetGroupBinding"
    assert not rt("ns").namespaced and rt("ingresses").group == "networking.k8s.io"
    assert rt("pods").subresources == ("status", "log", "eviction", "exec", "attach", "portforward")
    assert rt("deploy").subresources == ("status", "scale")
    with pytest.raises(KeyError, match='doesn\'t have a resource type "widgets"'):
        rt("widgets")
    assert len({(r.group, r.plural) for r in RESOURCES}) == len(RESOURCES)


# -- create ---------------------------------------------------------------------------------------

def test_initial_namespaces_are_active():
    store, _ = new_store()
    names = [n["metadata"]["name"] for n in store.list(NS)[0]]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    default = store.get(NS, None, "default")
    assert default["status"] == {"phase": "Active"}
    assert default["metadata"]["labels"] == {"kubernetes.io/metadata.name": "default"}
    store.create(NS, {"metadata": {"name": "prod"}})
    accounts = [(a["metadata"]["namespace"], a["metadata"]["name"]) for a in store.list(rt("sa"))[0]]
    assert accounts == [(ns, "default") for ns in
                        ("default", "kube-node-lease", "kube-public", "kube-system", "prod")]


def test_create_pod_fills_server_fields_and_defaults():
    store, clock = new_store()
    clock.advance(90)
    before = int(store.resource_version)
    pod = store.create(PODS, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1"},
                              "spec": {"containers": [
                                  {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]},
                                  {"name": "side", "image": "busybox"}]}})
    meta = pod["metadata"]
    assert meta["namespace"] == "default"
    assert int(meta["resourceVersion"]) == before + 1 == int(store.resource_version)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", meta["uid"])
    assert meta["creationTimestamp"] == rfc3339(START + timedelta(seconds=90))
    spec = pod["spec"]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["schedulerName"]) == (
        "Always", "ClusterFirst", "default-scheduler")
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["serviceAccountName"] == "default"
    web, side = spec["containers"]
    assert web["imagePullPolicy"] == "IfNotPresent" and side["imagePullPolicy"] == "Always"
    assert web["terminationMessagePath"] == "/dev/termination-log"
    assert web["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert store.get(PODS, "default", "web-1") == pod


def test_create_discards_client_status_and_computes_qos():
    store, _ = new_store()
    body = pod_body("p")
    body["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "1", "memory": "1Gi"},
                                                  "limits": {"cpu": "1", "memory": "1Gi"}}
    body["status"] = {"phase": "Running"}
    pod = store.create(PODS, body)
    assert pod["status"] == {"phase": "Pending", "qosClass": "Guaranteed"}


def test_generate_name_is_random_but_repeatable_per_seed():
    names = []
    for _ in range(2):
        store, _ = new_store(seed=3)
        names.append([store.create(PODS, {"metadata": {"generateName": "web-7d4-"},
                                          "spec": pod_body("x")["spec"]})["metadata"]["name"]
                      for _ in range(3)])
    assert names[0] == names[1]
    assert len(set(names[0])) == 3
    assert all(re.fullmatch(r"web-7d4-[bcdfghjklmnpqrstvwxz2456789]{5}", n) for n in names[0])
    other, _ = new_store(seed=4)
    assert other.create(PODS, {"metadata": {"generateName": "web-7d4-"},
                               "spec": pod_body("x")["spec"]})["metadata"]["name"] != names[0][0]


def test_create_deployment_defaults_and_generation():
    store, _ = new_store()
    dep = store.create(DEPLOY, deployment_body(), namespace="default")
    spec = dep["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate",
                                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert (spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (10, 600)
    assert spec["template"]["spec"]["schedulerName"] == "default-scheduler"
    assert dep["metadata"]["generation"] == 1
    assert "status" not in dep


def test_service_gets_cluster_ip_and_rejects_taken_ip():
    store, _ = new_store()
    dns = store.create(SVC, {"metadata": {"name": "kube-dns", "namespace": "kube-system"},
                             "spec": {"clusterIP": "10.100.0.10", "ports": [{"port": 53}]}})
    assert dns["spec"]["clusterIPs"] == ["10.100.0.10"]
    web = store.create(SVC, {"metadata": {"name": "web"}, "spec": {
        "type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}})
    spec = web["spec"]
    assert ipaddress.ip_address(spec["clusterIP"]) in ipaddress.ip_network("10.100.0.0/16")
    assert spec["sessionAffinity"] == "None"
    assert spec["ports"][0]["targetPort"] == 80 and 30000 <= spec["ports"][0]["nodePort"] <= 32767
    with raises(422, "Invalid") as err:
        store.create(SVC, {"metadata": {"name": "dns2"}, "spec": {"clusterIP": "10.100.0.10",
                                                                   "ports": [{"port": 53}]}})
    assert err.value.message == ('Service "dns2" is invalid: spec.clusterIPs: Invalid value: '
                                 '[]string{"10.100.0.10"}: failed to allocate IP 10.100.0.10: '
                                 'provided IP is already allocated')


def test_invalid_name_reads_like_the_api_server():
    store, _ = new_store()
    body = deployment_body()
    body["metadata"]["name"] = "Bad_Name"
    with raises(422, "Invalid") as err:
        store.create(DEPLOY, body)
    assert err.value.message == (
        'Deployment.apps "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a '
        "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
        "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
        "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
    status = err.value.to_status()
    assert status["code"] == 422 and status["details"]["kind"] == "Deployment"
    assert status["details"]["causes"][0]["field"] == "metadata.name"
    assert store.get(DEPLOY, "default", "Bad_Name") is None


@pytest.mark.parametrize("plural,name,rule", [
    ("namespaces", "a.b", "RFC 1123 label"),
    ("services", "1web", "DNS-1035 label"),
    ("configmaps", "-x", "RFC 1123 subdomain"),
])
def test_name_rules_per_resource(plural, name, rule):
    store, _ = new_store()
    with raises(422, "Invalid") as err:
        store.create(rt(plural), {"metadata": {"name": name}, "spec": {"ports": [{"port": 1}]}})
    assert rule in err.value.message


def test_create_errors():
    store, _ = new_store()
    with raises(404, "NotFound") as err:
        store.create(PODS, pod_body("web-1"), namespace="prod")
    assert err.value.message == 'namespaces "prod" not found'
    store.create(DEPLOY, deployment_body())
    with raises(409, "AlreadyExists") as err:
        store.create(DEPLOY, deployment_body())
    assert err.value.message == 'deployments.apps "web" already exists'
    assert err.value.to_status()["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
    with raises(422, "Invalid") as err:
        store.create(PODS, {"metadata": {}, "spec": {}})
    assert err.value.message == ('Pod "" is invalid: metadata.name: Required value: name or '
                                 'generateName is required')
    body = deployment_body()
    body["metadata"]["name"] = "other"
    body["spec"]["template"]["metadata"]["labels"] = {"app": "nope"}
    with raises(422, "Invalid") as err:
        store.create(DEPLOY, body)
    assert err.value.message == ('Deployment.apps "other" is invalid: spec.template.metadata.labels: '
                                 'Invalid value: map[string]string{"app":"nope"}: `selector` does '
                                 'not match template `labels`')
    with raises(400, "BadRequest"):
        store.create(PODS, {"kind": "Service", "metadata": {"name": "x"}})
    with raises(400, "BadRequest"):
        store.create(PODS, pod_body("x") | {"metadata": {"name": "x", "namespace": "a"}},
                     namespace="default")
    with raises(422, "Invalid") as err:
        store.create(PODS, pod_body("x", labels={"app": "bad value"}))
    assert "metadata.labels: Invalid value: \"bad value\": a valid label must be" in err.value.message


def test_admission_hook_mutates_or_rejects():
    store, _ = new_store()
    calls = []

    def fargate(rtype, obj):
        calls.append((rtype.plural, obj["metadata"]["name"]))
        if rtype is PODS and obj["metadata"]["namespace"] == "default":
            obj["spec"]["schedulerName"] = "fargate-scheduler"
        if obj["metadata"]["name"] == "forbidden":
            raise ApiError(403, "Forbidden", 'pods "forbidden" is forbidden: no')

    store.add_admission_hook(fargate)
    pod = store.create(PODS, pod_body("web-1"))
    assert pod["spec"]["schedulerName"] == "fargate-scheduler"
    rv = store.resource_version
    with raises(403, "Forbidden"):
        store.create(PODS, pod_body("forbidden"))
    assert store.get(PODS, "default", "forbidden") is None and store.resource_version == rv
    assert calls == [("pods", "web-1"), ("pods", "forbidden")]


# -- update ---------------------------------------------------------------------------------------

def test_replace_conflict_generation_and_status():
    store, _ = new_store()
    dep = store.create(DEPLOY, deployment_body())
    store.mutate(DEPLOY, "default", "web", lambda d: d.update(status={"replicas": 2}), status=True)
    stale = dict(dep)
    dep = store.get(DEPLOY, "default", "web")
    dep["metadata"]["labels"] = {"team": "a"}
    dep["status"] = {"replicas": 99}
    same_spec = store.replace(DEPLOY, dep)
    assert same_spec["metadata"]["generation"] == 1  # metadata-only change
    assert same_spec["status"] == {"replicas": 2}  # status is not writable through PUT
    same_spec["spec"]["replicas"] = 5
    bumped = store.replace(DEPLOY, same_spec)
    assert bumped["metadata"]["generation"] == 2 and bumped["spec"]["replicas"] == 5
    with raises(409, "Conflict") as err:
        store.replace(DEPLOY, stale)
    assert err.value.message == (
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; '
        'please apply your changes to the latest version and try again')
    rv = store.resource_version
    assert store.replace(DEPLOY, bumped)["metadata"]["resourceVersion"] == rv  # no-op: no write
    with raises(404, "NotFound") as err:
        store.replace(PODS, pod_body("web-1"))
    assert err.value.message == 'pods "web-1" not found'


def test_replace_status_takes_only_status():
    store, _ = new_store()
    store.create(PODS, pod_body("p"))
    pod = store.get(PODS, "default", "p")
    pod["spec"]["nodeName"] = "ignored"
    pod["status"] = {"phase": "Running"}
    out = store.replace_status(PODS, pod)
    assert out["status"] == {"phase": "Running"} and "nodeName" not in out["spec"]


def test_mutate_for_controllers():
    store, _ = new_store()
    store.create(PODS, pod_body("p"))
    rv = store.resource_version
    unchanged = store.mutate(PODS, "default", "p", lambda p: None)
    assert unchanged["metadata"]["resourceVersion"] == rv == store.resource_version
    bound = store.mutate(PODS, "default", "p", lambda p: p["spec"].update(nodeName="n1"))
    assert bound["spec"]["nodeName"] == "n1" and int(store.resource_version) == int(rv) + 1

    def status_and_spec(p):
        p["status"]["phase"] = "Running"
        p["spec"]["nodeName"] = "n2"

    running = store.mutate(PODS, "default", "p", status_and_spec, status=True)
    assert running["status"]["phase"] == "Running" and running["spec"]["nodeName"] == "n1"
    assert store.mutate(PODS, "default", "missing", lambda p: None) is None


# -- delete ---------------------------------------------------------------------------------------

def test_graceful_pod_deletion_and_finalize():
    store, clock = new_store()
    store.create(PODS, pod_body("bound", node="ip-10-0-1-5"))
    clock.advance(10)
    pod = store.delete(PODS, "default", "bound")
    meta = pod["metadata"]
    assert meta["deletionGracePeriodSeconds"] == 30
    assert parse_rfc3339(meta["deletionTimestamp"]) == clock.now() + timedelta(seconds=30)
    assert store.get(PODS, "default", "bound")["metadata"]["deletionTimestamp"] == meta["deletionTimestamp"]
    # asking again with a longer grace changes nothing; a shorter one moves the deadline up
    assert store.delete(PODS, "default", "bound", grace_period_seconds=60)["metadata"] == \
        store.get(PODS, "default", "bound")["metadata"]
    shorter = store.delete(PODS, "default", "bound", grace_period_seconds=5)
    assert shorter["metadata"]["deletionGracePeriodSeconds"] == 5
    store.finalize_pod("default", "bound")
    assert store.get(PODS, "default", "bound") is None
    store.finalize_pod("default", "bound")  # idempotent


def test_unbound_finished_or_zero_grace_pods_go_at_once():
    store, _ = new_store()
    store.create(PODS, pod_body("pending"))
    assert store.delete(PODS, "default", "pending")["metadata"].get("deletionTimestamp") is None
    assert store.get(PODS, "default", "pending") is None
    store.create(PODS, pod_body("forced", node="n1"))
    store.delete(PODS, "default", "forced", grace_period_seconds=0)
    assert store.get(PODS, "default", "forced") is None
    store.create(PODS, pod_body("done", node="n1"))
    store.mutate(PODS, "default", "done", lambda p: p["status"].update(phase="Succeeded"), status=True)
    store.delete(PODS, "default", "done")
    assert store.get(PODS, "default", "done") is None
    with raises(404, "NotFound") as err:
        store.delete(PODS, "default", "web-1")
    assert err.value.message == 'pods "web-1" not found'


def test_delete_preconditions():
    store, _ = new_store()
    pod = store.create(PODS, pod_body("p"))
    with raises(409, "Conflict") as err:
        store.delete(PODS, "default", "p", preconditions={"uid": "other"})
    assert err.value.message == (f'Operation cannot be fulfilled on pods "p": Precondition failed: '
                                 f'UID in precondition: other, UID in object meta: {pod["metadata"]["uid"]}')
    with raises(409, "Conflict"):
        store.delete(PODS, "default", "p", preconditions={"resourceVersion": "1"})
    store.delete(PODS, "default", "p", preconditions={"uid": pod["metadata"]["uid"]})
    assert store.get(PODS, "default", "p") is None


def _deployment_tree(store):
    dep = store.create(DEPLOY, deployment_body())
    rs_body = {"metadata": {"name": "web-7d4", "ownerReferences": [owner_ref(dep)]},
               "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                        "template": deployment_body()["spec"]["template"]}}
    rs = store.create(RS, rs_body)
    for name, node in (("web-7d4-a", "n1"), ("web-7d4-b", None)):
        body = pod_body(name, node=node)
        body["metadata"]["ownerReferences"] = [owner_ref(rs)]
        store.create(PODS, body)
    return dep, rs


def test_cascading_background_deletion():
    store, _ = new_store()
    _deployment_tree(store)
    store.delete(DEPLOY, "default", "web")
    assert store.get(DEPLOY, "default", "web") is None
    assert store.get(RS, "default", "web-7d4") is None
    assert store.get(PODS, "default", "web-7d4-b") is None  # unbound: removed at once
    terminating = store.get(PODS, "default", "web-7d4-a")  # bound: graceful, kubelet finishes
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 30


def test_foreground_deletion_waits_for_blocking_dependents():
    store, _ = new_store()
    _deployment_tree(store)
    dep = store.delete(DEPLOY, "default", "web", propagation_policy="Foreground")
    assert dep["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert dep["metadata"]["deletionTimestamp"]
    rs = store.get(RS, "default", "web-7d4")  # waits for its terminating pod
    assert rs["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert store.get(PODS, "default", "web-7d4-b") is None
    assert store.get(PODS, "default", "web-7d4-a")["metadata"]["deletionTimestamp"]
    assert store.get(DEPLOY, "default", "web")["metadata"]["finalizers"] == ["foregroundDeletion"]
    store.finalize_pod("default", "web-7d4-a")  # the kubelet finishes: the chain unwinds
    assert store.get(RS, "default", "web-7d4") is None
    assert store.get(DEPLOY, "default", "web") is None
    assert not store._dependents  # the owner index holds nothing for objects that are gone


def test_foreground_deletion_without_dependents_is_immediate():
    store, _ = new_store()
    store.create(DEPLOY, deployment_body())
    store.delete(DEPLOY, "default", "web", propagation_policy="Foreground")
    assert store.get(DEPLOY, "default", "web") is None


def test_orphan_deletion_keeps_dependents_without_the_reference():
    store, _ = new_store()
    _deployment_tree(store)
    store.delete(DEPLOY, "default", "web", propagation_policy="Orphan")
    rs = store.get(RS, "default", "web-7d4")
    assert rs is not None and "ownerReferences" not in rs["metadata"]
    assert store.get(PODS, "default", "web-7d4-b")["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    with raises(422, "Invalid"):
        store.delete(RS, "default", "web-7d4", propagation_policy="Sideways")


def test_dependent_with_a_live_owner_survives():
    store, _ = new_store()
    a = store.create(rt("cm"), {"metadata": {"name": "a"}})
    b = store.create(rt("cm"), {"metadata": {"name": "b"}})
    store.create(rt("cm"), {"metadata": {"name": "child",
                                         "ownerReferences": [owner_ref(a), owner_ref(b)]}})
    store.delete(rt("cm"), "default", "a")
    child = store.get(rt("cm"), "default", "child")
    assert [r["name"] for r in child["metadata"]["ownerReferences"]] == ["b"]
    store.delete(rt("cm"), "default", "b")
    assert store.get(rt("cm"), "default", "child") is None


def test_finalizers_hold_deletion_until_removed():
    store, _ = new_store()
    tgb = rt("targetgroupbindings")
    store.create(tgb, {"metadata": {"name": "web", "finalizers": ["elbv2.k8s.aws/resources"]},
                       "spec": {"targetGroupARN": "arn:x", "serviceRef": {"name": "web", "port": 80}}})
    held = store.delete(tgb, "default", "web")
    assert held["metadata"]["deletionTimestamp"] and store.get(tgb, "default", "web") is not None
    held_tgb = store.get(tgb, "default", "web")
    store.create(rt("cm"), {"metadata": {"name": "dependent", "ownerReferences": [owner_ref(held_tgb)]}})
    store.mutate(tgb, "default", "web", lambda o: o["metadata"].pop("finalizers"))
    assert store.get(tgb, "default", "web") is None
    assert store.get(rt("cm"), "default", "dependent") is None


def test_namespace_deletion_cascades_and_waits_for_terminating_pods():
    store, _ = new_store()
    store.create(NS, {"metadata": {"name": "prod"}})
    store.create(rt("cm"), {"metadata": {"name": "cfg", "namespace": "prod"}})
    store.create(PODS, pod_body("running", node="n1"), namespace="prod")
    ns = store.delete(NS, None, "prod")
    assert ns["status"] == {"phase": "Terminating"}
    assert store.get(rt("cm"), "prod", "cfg") is None
    with raises(403, "Forbidden") as err:
        store.create(rt("cm"), {"metadata": {"name": "late"}}, namespace="prod")
    assert err.value.message == ('configmaps "late" is forbidden: unable to create new content in '
                                 'namespace prod because it is being terminated')
    assert store.get(NS, None, "prod") is not None
    store.finalize_pod("prod", "running")
    assert store.get(NS, None, "prod") is None
    with raises(403, "Forbidden") as err:
        store.delete(NS, None, "default")
    assert err.value.message == 'namespaces "default" is forbidden: this namespace may not be deleted'


def test_scale_subresource_reads_and_writes_replicas():
    store, _ = new_store()
    store.create(DEPLOY, deployment_body(replicas=2))
    scale = store.get_scale(DEPLOY, "default", "web")
    assert scale["spec"] == {"replicas": 2} and scale["status"]["selector"] == "app=web"
    scale["spec"]["replicas"] = 4
    assert store.replace_scale(DEPLOY, "default", "web", scale)["spec"]["replicas"] == 4
    assert store.get(DEPLOY, "default", "web")["metadata"]["generation"] == 2
    with raises(422, "Invalid"):
        store.replace_scale(DEPLOY, "default", "web", {"spec": {"replicas": -1}})
    with raises(404, "NotFound"):
        store.get_scale(PODS, "default", "x")


# -- events ---------------------------------------------------------------------------------------

def test_record_event_fields_and_aggregation():
    store, clock = new_store()
    pod = store.create(PODS, pod_body("web-1"))
    first = store.record_event(pod, "Scheduled", "Successfully assigned default/web-1 to n1",
                               component="default-scheduler")
    assert first["involvedObject"] == {
        "kind": "Pod", "namespace": "default", "name": "web-1", "uid": pod["metadata"]["uid"],
        "apiVersion": "v1", "resourceVersion": pod["metadata"]["resourceVersion"]}
    assert first["metadata"]["namespace"] == "default"
    assert first["metadata"]["name"].startswith("web-1.")
    assert (first["count"], first["type"], first["source"]) == (1, "Normal",
                                                               {"component": "default-scheduler"})
    assert first["firstTimestamp"] == first["lastTimestamp"] == rfc3339(clock.now())
    assert first["reportingComponent"] == "default-scheduler"

    clock.advance(120)
    again = store.record_event(pod, "Scheduled", "Successfully assigned default/web-1 to n1",
                               component="default-scheduler")
    assert again["metadata"]["name"] == first["metadata"]["name"]
    assert again["count"] == 2 and again["lastTimestamp"] == rfc3339(clock.now())
    assert again["firstTimestamp"] == first["firstTimestamp"]
    other = store.record_event(pod, "Pulling", 'Pulling image "nginx:1.27"', component="kubelet",
                               host="n1", field_path="spec.containers{web}")
    assert other["metadata"]["name"] != first["metadata"]["name"]
    assert other["source"] == {"component": "kubelet", "host": "n1"}
    assert other["involvedObject"]["fieldPath"] == "spec.containers{web}"

    clock.advance(11 * 60)
    later = store.record_event(pod, "Scheduled", "Successfully assigned default/web-1 to n1",
                               component="default-scheduler")
    assert later["count"] == 1 and later["metadata"]["name"] != first["metadata"]["name"]
    assert len(store.list(rt("events"), "default", field_selector="reason=Scheduled")[0]) == 2
    store.delete(rt("events"), "default", later["metadata"]["name"])
    fresh = store.record_event(pod, "Scheduled", "Successfully assigned default/web-1 to n1",
                               component="default-scheduler")
    assert fresh["count"] == 1 and store.get(rt("events"), "default", fresh["metadata"]["name"])


def test_events_for_cluster_scoped_objects_go_to_default():
    store, _ = new_store()
    node = store.create(NODES, {"metadata": {"name": "fargate-ip-10-0-1-5.eu-central-1.compute.internal"}})
    ev = store.record_event(node, "NodeReady", "Node is ready", component="kubelet")
    assert ev["metadata"]["namespace"] == "default"
    assert "namespace" not in ev["involvedObject"]
    listed, _ = store.list(rt("events"), field_selector="involvedObject.kind=Node")
    assert [e["reason"] for e in listed] == ["NodeReady"]


def test_update_rules_for_immutable_fields():
    store, _ = new_store()
    store.create(DEPLOY, deployment_body())
    dep = store.get(DEPLOY, "default", "web")
    dep["spec"]["selector"] = {"matchLabels": {"app": "web", "v": "2"}}
    dep["spec"]["template"]["metadata"]["labels"]["v"] = "2"
    with raises(422, "Invalid") as err:
        store.replace(DEPLOY, dep)
    assert err.value.message == (
        'Deployment.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{'
        'MatchLabels:map[string]string{"app":"web", "v":"2"}, '
        'MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable')
    store.create(PODS, pod_body("p"))
    image = store.patch(PODS, "default", "p", {"spec": {"containers": [
        {"name": "web", "image": "nginx:1.28"}]}}, "application/strategic-merge-patch+json")
    assert image["spec"]["containers"][0]["image"] == "nginx:1.28"
    with raises(422, "Invalid") as err:
        store.patch(PODS, "default", "p", {"spec": {"containers": [
            {"name": "web", "env": [{"name": "A", "value": "1"}]}]}},
            "application/strategic-merge-patch+json")
    assert err.value.message.startswith('Pod "p" is invalid: spec: Forbidden: pod updates may not '
                                        'change fields other than `spec.containers[*].image`')
    # controllers bind and update pods through mutate, which these client-facing rules skip
    assert store.mutate(PODS, "default", "p", lambda p: p["spec"].update(nodeName="n1"))


def test_object_created_for_a_deleted_owner_is_collected():
    store, _ = new_store()
    rs = store.create(RS, {"metadata": {"name": "web-1"}, "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": deployment_body()["spec"]["template"]}})
    store.delete(RS, "default", "web-1")
    body = pod_body("web-1-x")
    body["metadata"]["ownerReferences"] = [owner_ref(rs)]
    created = store.create(PODS, body)  # a controller acting on a stale view
    assert created["metadata"]["name"] == "web-1-x"
    assert store.get(PODS, "default", "web-1-x") is None
    job_owned = pod_body("job-pod")  # owned by a type the sandbox does not serve
    job_owned["metadata"]["ownerReferences"] = [{"apiVersion": "example.com/v1", "kind": "Widget",
                                                 "name": "j", "uid": "not-served"}]
    store.create(PODS, job_owned)
    assert store.get(PODS, "default", "job-pod") is not None
