"""Label and field selectors: every operator, bad syntax, metav1.LabelSelector, store filtering."""

from __future__ import annotations

import pytest

from iagent_sandbox.kube.resources import rt
from iagent_sandbox.kube.selectors import (
    label_selector_from_match,
    parse_field_selector,
    parse_label_selector,
)
from iagent_sandbox.kube.store import ApiError

from .store_fixtures import new_store, pod_body

WEB = {"app": "web", "tier": "front", "replicas": "3"}
DB = {"app": "db", "tier": "back"}
BARE = {}


@pytest.mark.parametrize("selector,web,db,bare", [
    ("", True, True, True),
    ("app=web", True, False, False),
    ("app==web", True, False, False),
    ("app!=web", False, True, True),
    ("app in (web, db)", True, True, False),
    ("app notin (web)", False, True, True),
    ("tier", True, True, False),
    ("!tier", False, False, True),
    ("app=web,tier=front", True, False, False),
    ("app in (web,db),tier!=back", True, False, False),
    ("replicas>2", True, False, False),
    ("replicas<3", False, False, False),
    ("  app = web ", True, False, False),
    ("app=", False, False, False),
    ("app in (web,)", True, False, False),
    ("example.com/owner!=x", True, True, True),
])
def test_label_selector_operators(selector, web, db, bare):
    m = parse_label_selector(selector)
    assert (m.matches(WEB), m.matches(DB), m.matches(BARE)) == (web, db, bare)


@pytest.mark.parametrize("selector,message", [
    ("app in web", "unable to parse requirement: found 'web' expected: '('"),
    ("app in ()", "unable to parse requirement: for 'in', 'notin' operators, values set can't be empty"),
    ("app=web,", "found '', expected: identifier after ','"),
    ("app web", "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt"),
    ("app in (a b)", "found 'b', expected: ',' or ')'"),
    ("=web", "found '=', expected: !, identifier, or 'end of string'"),
    ("app=web)", "found ')', expected: ',' or 'end of string'"),
    ("app=bad value", "found 'value', expected: ',' or 'end of string'"),
    ("app=-web", 'unable to parse requirement: values[0][app]: Invalid value: "-web": a valid label '
                 "must be an empty string or consist of alphanumeric characters"),
    ("Bad Key!=x", "found 'Key', expected: in, notin, =, ==, !=, gt, lt"),
    ("-key", "name part must consist of alphanumeric characters"),
    ("n>x", "the value must be an integer"),
])
def test_label_selector_bad_syntax_is_400(selector, message):
    with pytest.raises(ApiError) as err:
        parse_label_selector(selector)
    assert (err.value.status, err.value.reason) == (400, "BadRequest")
    assert message in err.value.message


def test_label_selector_round_trips_to_text():
    text = "app=web,tier in (front,back),!legacy,zone"
    assert str(parse_label_selector(text)) == "app=web,tier in (back,front),!legacy,zone"
    assert str(parse_label_selector(str(parse_label_selector(text)))) == str(parse_label_selector(text))


def test_label_selector_from_match():
    sel = label_selector_from_match({
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "edge"]},
                             {"key": "legacy", "operator": "DoesNotExist"},
                             {"key": "app", "operator": "Exists"},
                             {"key": "zone", "operator": "NotIn", "values": ["b"]}]})
    assert sel.matches(WEB) and not sel.matches(DB)
    assert not sel.matches({**WEB, "legacy": "1"}) and not sel.matches({**WEB, "zone": "b"})
    assert label_selector_from_match({}).matches(BARE)  # empty selects everything
    assert not label_selector_from_match(None).matches(WEB)  # nil selects nothing
    assert str(label_selector_from_match({"matchLabels": {"b": "2", "a": "1"}})) == "a=1,b=2"
    for bad in ({"matchExpressions": [{"key": "a", "operator": "Like", "values": ["x"]}]},
                {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
                {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}):
        with pytest.raises(ApiError) as err:
            label_selector_from_match(bad)
        assert err.value.status == 400


POD = {"metadata": {"name": "web-1", "namespace": "prod"},
       "spec": {"nodeName": "n1", "schedulerName": "fargate-scheduler"},
       "status": {"phase": "Running"}}


@pytest.mark.parametrize("selector,matches", [
    ("metadata.name=web-1", True),
    ("metadata.namespace==prod", True),
    ("spec.nodeName=n1,status.phase=Running", True),
    ("spec.nodeName!=n1", False),
    ("spec.schedulerName=fargate-scheduler", True),
    ("status.phase!=Succeeded,status.phase!=Failed", True),
    ("spec.hostNetwork=false", True),
    ("spec.restartPolicy=", True),
])
def test_field_selector_on_pods(selector, matches):
    assert parse_field_selector(selector, rt("pods")).matches(POD) is matches


def test_field_selector_on_events_and_errors():
    event = {"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "web-1",
                                                           "namespace": "prod", "uid": "u1"},
             "reason": "FailedScheduling", "type": "Warning", "source": {"component": "fargate-scheduler"}}
    sel = parse_field_selector("involvedObject.kind=Pod,involvedObject.name=web-1,type=Warning,"
                               "reason=FailedScheduling,source=fargate-scheduler", rt("events"))
    assert sel.matches(event)
    with pytest.raises(ApiError) as err:
        parse_field_selector("spec.foo=bar", rt("pods"))
    assert (err.value.status, err.value.message) == (400, "field label not supported: spec.foo")
    with pytest.raises(ApiError) as err:
        parse_field_selector("status.phase=Running", rt("deployments"))
    assert err.value.message == "field label not supported: status.phase"
    with pytest.raises(ApiError) as err:
        parse_field_selector("metadata.name", rt("pods"))
    assert err.value.status == 400 and "can't understand 'metadata.name'" in err.value.message
    escaped = parse_field_selector(r"metadata.name=a\,b", rt("configmaps"))
    assert escaped.matches({"metadata": {"name": "a,b"}})


def test_store_list_filters_and_sorts():
    store, _ = new_store()
    store.create(rt("ns"), {"metadata": {"name": "prod"}})
    store.create(rt("pods"), pod_body("web-2", labels={"app": "web"}, node="n1"))
    store.create(rt("pods"), pod_body("web-1", labels={"app": "web"}), namespace="prod")
    store.create(rt("pods"), pod_body("db-0", labels={"app": "db"}, node="n1"))
    items, rv = store.list(rt("pods"))
    assert [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in items] == [
        ("default", "db-0"), ("default", "web-2"), ("prod", "web-1")]
    assert rv == store.resource_version
    names = lambda **kw: [p["metadata"]["name"] for p in store.list(rt("pods"), **kw)[0]]  # noqa: E731
    assert names(label_selector="app=web") == ["web-2", "web-1"]
    assert names(namespace="prod") == ["web-1"]
    assert names(field_selector="spec.nodeName=n1", label_selector="app!=web") == ["db-0"]
    assert names(field_selector="spec.nodeName=") == ["web-1"]
    with pytest.raises(ApiError):
        store.list(rt("pods"), label_selector="app in web")
