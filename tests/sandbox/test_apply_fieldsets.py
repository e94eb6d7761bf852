"""The field-set arithmetic behind server-side apply, on the published schemas: which paths an
object sets (list items by their list-map keys, set items by value, atomic values whole), the
fieldsV1 and path-string notations, merging and removal."""

from __future__ import annotations

from iagent_sandbox.kube import fieldsets as fs

POD = fs.root_schema("", "v1", "Pod")


def test_field_set_uses_list_map_keys_sets_and_atomics():
    pod = {"metadata": {"labels": {"app": "web"}, "finalizers": ["a/b"]},
           "spec": {"containers": [{"name": "web", "image": "nginx",
                                    "ports": [{"containerPort": 80}], "args": ["-v"]}],
                    "tolerations": [{"key": "k", "operator": "Exists"}]}}
    paths = fs.field_set(pod, POD)
    web = (("f", "spec"), ("f", "containers"), ("k", '{"name":"web"}'))
    assert web in paths  # the item itself, and its fields
    assert web + (("f", "image"),) in paths
    assert web + (("f", "ports"), ("k", '{"containerPort":80,"protocol":"TCP"}')) in paths  # defaulted key
    assert web + (("f", "args"),) in paths  # an atomic list is one field
    assert not any(p[:len(web) + 2] == web + (("f", "args"), ("i", 0)) for p in paths)
    assert (("f", "spec"), ("f", "tolerations")) in paths  # atomic in 1.31
    assert (("f", "metadata"), ("f", "finalizers"), ("v", '"a/b"')) in paths
    assert (("f", "metadata"), ("f", "labels"), ("f", "app")) in paths
    assert (("f", "spec"),) not in paths  # a struct with fields is not a member itself


def test_fields_v1_round_trip_and_dot_for_members_with_children():
    paths = {(("f", "spec"), ("f", "containers"), ("k", '{"name":"web"}')),
             (("f", "spec"), ("f", "containers"), ("k", '{"name":"web"}'), ("f", "image")),
             (("f", "spec"), ("f", "replicas"))}
    tree = fs.to_fields_v1(paths)
    assert tree == {"f:spec": {"f:containers": {'k:{"name":"web"}': {".": {}, "f:image": {}}},
                               "f:replicas": {}}}
    assert list(tree["f:spec"]["f:containers"]['k:{"name":"web"}']) == [".", "f:image"]
    assert fs.from_fields_v1(tree) == paths


def test_path_strings_read_like_the_api_servers():
    assert fs.path_string((("f", "spec"), ("f", "replicas"))) == ".spec.replicas"
    assert fs.path_string((("f", "spec"), ("f", "ports"), ("k", '{"port":80,"protocol":"TCP"}'),
                           ("f", "targetPort"))) == '.spec.ports[port=80,protocol="TCP"].targetPort'
    assert fs.path_string((("f", "metadata"), ("f", "finalizers"), ("v", '"x"'))) == \
        '.metadata.finalizers[="x"]'


def test_merge_by_keys_and_remove():
    live = {"spec": {"containers": [{"name": "a", "image": "1", "env": [{"name": "X", "value": "1"}]},
                                    {"name": "b", "image": "2"}]}}
    config = {"spec": {"containers": [{"name": "b", "image": "3"}, {"name": "c", "image": "4"}]}}
    merged = fs.merge(live, config, POD)
    assert [(c["name"], c["image"]) for c in merged["spec"]["containers"]] == \
        [("a", "1"), ("b", "3"), ("c", "4")]
    fs.remove(merged, {(("f", "spec"), ("f", "containers"), ("k", '{"name":"a"}'), ("f", "env"),
                        ("k", '{"name":"X"}'))})
    assert "env" not in merged["spec"]["containers"][0]  # the emptied list goes too
    added, removed, modified = fs.compare(live, merged, POD)
    image_b = (("f", "spec"), ("f", "containers"), ("k", '{"name":"b"}'), ("f", "image"))
    assert image_b in modified and image_b not in added
    assert (("f", "spec"), ("f", "containers"), ("k", '{"name":"c"}')) in added
    assert any(p[-1] == ("k", '{"name":"X"}') for p in removed)
