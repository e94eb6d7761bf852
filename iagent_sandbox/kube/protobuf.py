"""Just enough of the Kubernetes protobuf encoding to read what kubectl sends that way.

`kubectl create rolebinding` posts its object as ``application/vnd.kubernetes.protobuf`` (every
other command the sandbox serves sends JSON): the ``k8s\\0`` magic, a runtime.Unknown envelope
(typeMeta, raw), and the object in the generated.proto layout. This decodes RoleBindings and
ClusterRoleBindings into their JSON form; anything else stays a 415 as before.
"""

from __future__ import annotations

from typing import Any

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def fields(buf: bytes) -> list[tuple[int, Any]]:
    """(field number, value) pairs: ints for varints, bytes for length-delimited fields."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            length, i = _varint(buf, i)
            value, i = buf[i:i + length], i + length
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        out.append((number, value))
    return out


def _strings(buf: bytes, names: dict[int, str]) -> dict[str, str]:
    return {names[n]: v.decode() for n, v in fields(buf) if n in names}


def _string_map(entries: list[bytes]) -> dict[str, str]:
    out = {}
    for entry in entries:
        kv = dict(fields(entry))
        out[kv.get(1, b"").decode()] = kv.get(2, b"").decode()
    return out


def _object_meta(buf: bytes) -> dict:
    parsed = fields(buf)
    meta: dict[str, Any] = _strings(buf, {1: "name", 2: "generateName", 3: "namespace"})
    labels = [v for n, v in parsed if n == 11]
    annotations = [v for n, v in parsed if n == 12]
    if labels:
        meta["labels"] = _string_map(labels)
    if annotations:
        meta["annotations"] = _string_map(annotations)
    return meta


def _role_binding(kind: str, api_version: str, raw: bytes) -> dict:
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": {}}
    subjects = []
    for number, value in fields(raw):
        if number == 1:
            obj["metadata"] = _object_meta(value)
        elif number == 2:
            subjects.append(_strings(value, {1: "kind", 2: "apiGroup", 3: "name", 4: "namespace"}))
        elif number == 3:
            obj["roleRef"] = _strings(value, {1: "apiGroup", 2: "kind", 3: "name"})
    if subjects:
        obj["subjects"] = subjects
    return obj


DECODERS = {"RoleBinding": _role_binding, "ClusterRoleBinding": _role_binding}


def decode(body: bytes) -> dict:
    """The JSON form of a protobuf-encoded object; ValueError if it is not one this reads."""
    if not body.startswith(MAGIC):
        raise ValueError("provided object is not a protobuf-encoded Kubernetes object")
    envelope = dict(fields(body[len(MAGIC):]))
    type_meta = _strings(envelope.get(1, b""), {1: "apiVersion", 2: "kind"})
    decoder = DECODERS.get(type_meta.get("kind", ""))
    if decoder is None:
        raise ValueError(f"protobuf decoding of {type_meta.get('kind')} is not supported")
    return decoder(type_meta["kind"], type_meta.get("apiVersion", ""), envelope.get(2, b""))
