"""The sandbox's Kubernetes object store: what etcd plus the API server's registry are to a cluster.

Every write goes through ``_commit``, which bumps one global resourceVersion, keeps the change in a
bounded history (for watch resume; older versions get 410) and hands it to every open watch without
waiting. Stored objects are never mutated after commit, so history entries and watch events can
share them; callers always get deep copies.

The HTTP server translates requests into these calls; simulated controllers call the store directly
(``mutate`` is their read-modify-write without a conflict check, since they run on the same loop).
"""

from __future__ import annotations

import bisect
import contextlib
import heapq
import json
import uuid
from collections import deque
from typing import Any, Callable, Iterator

from ..clock import SandboxClock, rfc3339
from . import errors
from .clone import clone
from .defaults import TRACKS_GENERATION, apply_create_defaults, default_pod_spec
from .deletion import Deletion, owner_uids
from .errors import ApiError, FieldError
from .resources import RESOURCES, ResourceType
from .resources import rt as resolve_rt
from .selectors import parse_field_selector, parse_label_selector
from .services import ServiceAllocator
from .validation import NAME_RULES, name_errors, object_errors, required, update_errors
from .watch import Change, Watch

__all__ = ["ApiError", "ObjectStore", "Watch"]

INITIAL_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
GENERATE_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s utilrand: no vowels, no look-alikes
# Metadata only the server sets: copied from the stored object on every update.
SERVER_METADATA = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                   "generation", "resourceVersion")

Key = tuple[str, str]  # (namespace or "", name)
# The API server's own words (apiserver/pkg/storage/errors) for a continue token whose
# resourceVersion has been compacted away.
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this response "
    "to retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list.")


def _key(obj: dict) -> Key:
    meta = obj["metadata"]
    return meta.get("namespace") or "", meta["name"]


def _without(obj: dict, *keys: str) -> dict:
    return {k: v for k, v in obj.items() if k not in keys}


def _same_content(a: dict, b: dict) -> bool:
    """Equal apart from resourceVersion: an update that changes nothing writes nothing."""
    return _without(a, "metadata") == _without(b, "metadata") and \
        _without(a["metadata"], "resourceVersion") == _without(b["metadata"], "resourceVersion")


class ObjectStore(Deletion):
    def __init__(self, clock: SandboxClock, history: int = 2000) -> None:
        if history < 1:
            raise ValueError("history must keep at least one change")
        self.clock = clock
        self._objects: dict[ResourceType, dict[Key, dict]] = {r: {} for r in RESOURCES}
        self._by_uid: dict[str, tuple[ResourceType, Key]] = {}
        self._dependents: dict[str, set[tuple[ResourceType, Key]]] = {}
        self._rv = 0
        self._history: deque[Change] = deque(maxlen=history)
        self._trimmed_rv = 0  # every change with rv <= this has left the history
        # Each type's keys in (namespace, name) order, kept up to date once a list asked for them.
        self._sorted_keys: dict[ResourceType, list[Key]] = {}
        self._watches: set[Watch] = set()
        self._admission: list[Callable[[ResourceType, dict], None]] = []
        self._rng = clock.rng("kube-object-store")
        self._services = ServiceAllocator(clock.rng("kube-service-ips"))
        # record_event's aggregation: (involved, reason, message) -> Event, and back
        self._event_index: dict[tuple[str, str, str], Key] = {}
        self._event_keys: dict[Key, tuple[str, str, str]] = {}
        self._ns_counts: dict[str, int] = {}  # objects per namespace, to finish namespace deletion
        self._dry = False  # inside dry_run(): writes are checked and answered, never committed
        for name in INITIAL_NAMESPACES:
            self.create(resolve_rt("namespaces"), {"metadata": {"name": name}})

    # -- reads ------------------------------------------------------------------------------
    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> dict | None:
        obj = self._objects[rt].get((self._ns(rt, namespace), name))
        return clone(obj) if obj is not None else None

    def list(self, rt: ResourceType, namespace: str | None = None,
             label_selector: str | None = None,
             field_selector: str | None = None) -> tuple[list[dict], str]:
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, rt)
        items = [clone(o) for o in self._iter(rt, namespace)
                 if labels.matches(o["metadata"].get("labels")) and fields.matches(o)]
        return items, self.resource_version

    def list_page(self, rt: ResourceType, namespace: str | None = None,
                  label_selector: str | None = None, field_selector: str | None = None,
                  limit: int | None = None, after: Key | None = None,
                  at_rv: int | None = None) -> tuple[list[dict], str, Key | None]:
        """One page of a list, in (namespace, name) order, for the HTTP server's limit/continue.

        Starts after the key ``after`` and shows the store as it was at resourceVersion ``at_rv``
        (the version the list's first page was served at; None: now), reconstructed from the
        history: every object present then is in exactly one page and none created later. 410
        Expired when the history no longer reaches back to at_rv. Costs the page (plus the changes
        since at_rv), not the whole type. Returns (items, resourceVersion, key of the last item
        when more follow). The items are the stored objects themselves, not copies: serialize
        them, never edit them."""
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, rt)
        rv = self._rv if at_rv is None else at_rv
        if rv > self._rv:
            raise errors.ApiError(504, "Timeout", f"Too large resource version: {rv}, current: "
                                                  f"{self._rv}")
        then = self._changed_since(rt, rv)
        table, keys = self._objects[rt], self._keys_in_order(rt)
        ns = namespace if rt.namespaced and namespace is not None else None
        start = (ns, "") if ns is not None else ("", "")
        if after is not None and after > start:
            start = after
        i = bisect.bisect_right(keys, start) if start == after else bisect.bisect_left(keys, start)
        gone = sorted(k for k, old in then.items() if old is not None and k not in table
                      and (after is None or k > after))
        items: list[dict] = []
        for key in heapq.merge((keys[j] for j in range(i, len(keys))), gone):
            if ns is not None and key[0] != ns:
                if key[0] > ns:
                    break
                continue
            obj = then[key] if key in then else table[key]
            if obj is None or not labels.matches(obj["metadata"].get("labels")) \
                    or not fields.matches(obj):
                continue
            if limit and len(items) == limit:
                return items, str(rv), _key(items[-1])
            items.append(obj)
        return items, str(rv), None

    def count_after(self, rt: ResourceType, namespace: str | None, after: Key, at_rv: int) -> int:
        """How many objects (in namespace, if given) came after the key ``after`` at resourceVersion
        at_rv: a list's remainingItemCount. Costs the changes since at_rv, not the list."""
        then, table, keys = self._changed_since(rt, at_rv), self._objects[rt], self._keys_in_order(rt)
        ns = namespace if rt.namespaced and namespace is not None else None
        end = len(keys) if ns is None else bisect.bisect_left(keys, (ns + "\0", ""))
        count = max(0, end - bisect.bisect_right(keys, after))
        for key, old in then.items():
            if key > after and (ns is None or key[0] == ns):
                count += (old is not None) - (key in table)
        return count

    def _changed_since(self, rt: ResourceType, rv: int) -> dict[Key, dict | None]:
        """Every rt key written after rv, with its state at rv (None: it did not exist)."""
        if rv < self._trimmed_rv:
            raise errors.gone(CONTINUE_EXPIRED)
        then: dict[Key, dict | None] = {}
        for change in reversed(self._history):  # newest first: the oldest change's `old` wins
            if change.rv <= rv:
                break
            if change.rt == rt:
                then[_key(change.obj)] = change.old
        return then

    def _keys_in_order(self, rt: ResourceType) -> list[Key]:
        keys = self._sorted_keys.get(rt)
        if keys is None:
            keys = self._sorted_keys[rt] = sorted(self._objects[rt])
        return keys

    def scan(self, rt: ResourceType, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        """list() for the sandbox's own controllers: the stored objects themselves, not copies
        (copying thousands of pods per reconcile is what made a large cluster slow). Read them,
        never edit them: every write goes through create/mutate/delete."""
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, rt)
        return [o for o in self._iter(rt, namespace)
                if labels.matches(o["metadata"].get("labels")) and fields.matches(o)]

    def _iter(self, rt: ResourceType, namespace: str | None = None) -> Iterator[dict]:
        table, keys = self._objects[rt], self._keys_in_order(rt)
        if namespace is None or not rt.namespaced:
            return (table[key] for key in list(keys))
        start, end = bisect.bisect_left(keys, (namespace, "")), bisect.bisect_left(keys, (namespace + "\0", ""))
        return (table[key] for key in keys[start:end])

    def _stored(self, rt: ResourceType, namespace: str | None, name: str) -> dict:
        obj = self._objects[rt].get((self._ns(rt, namespace), name))
        if obj is None:
            raise errors.not_found(rt, name)
        return obj

    @staticmethod
    def _ns(rt: ResourceType, namespace: str | None) -> str:
        return (namespace or "default") if rt.namespaced else ""

    # -- the one write path -----------------------------------------------------------------
    @contextlib.contextmanager
    def dry_run(self, enabled: bool = True) -> Iterator[None]:
        """dryRun=All: a write inside runs every check, default and admission hook and returns
        what it would store, but nothing is stored, watched or given a new resourceVersion.
        The random streams are put back so a dry run does not change what later writes draw."""
        if not enabled or self._dry:
            yield
            return
        rng_state, services_state = self._rng.getstate(), self._services.rng_state()
        self._dry = True
        try:
            yield
        finally:
            self._dry = False
            self._rng.setstate(rng_state)
            self._services.set_rng_state(services_state)

    @contextlib.contextmanager
    def recording(self, recorder: Callable[[ResourceType, dict | None, dict], None]) -> Iterator[None]:
        """The next create or update inside calls recorder(rt, old, new) once, after defaults and
        validation and before it is stored: how the HTTP layer keeps metadata.managedFields for
        the request's field manager (controllers' own writes record nothing)."""
        self._recorder = recorder
        try:
            yield
        finally:
            self._recorder = None

    def _record(self, rt: ResourceType, old: dict | None, new: dict) -> None:
        recorder, self._recorder = getattr(self, "_recorder", None), None
        if recorder is not None:
            recorder(rt, old, new)

    def _commit(self, rt: ResourceType, kind: str, new: dict, old: dict | None) -> dict:
        if self._dry:
            if kind == "ADDED":
                new["metadata"].pop("resourceVersion", None)  # a dry-run create has none
            return new
        self._rv += 1
        new["metadata"]["resourceVersion"] = str(self._rv)
        key, uid = _key(new), new["metadata"]["uid"]
        keys = self._sorted_keys.get(rt)
        if kind == "DELETED":
            if keys is not None and self._objects[rt].get(key) is not None:
                del keys[bisect.bisect_left(keys, key)]
            self._objects[rt].pop(key, None)
            self._by_uid.pop(uid, None)
            if rt.namespaced:
                self._ns_counts[key[0]] -= 1
        else:
            if rt.namespaced and kind == "ADDED":
                self._ns_counts[key[0]] = self._ns_counts.get(key[0], 0) + 1
            if keys is not None and key not in self._objects[rt]:
                bisect.insort(keys, key)
            self._objects[rt][key] = new
            self._by_uid[uid] = (rt, key)
        for owner in owner_uids(old) - owner_uids(new if kind != "DELETED" else None):
            self._dependents.get(owner, set()).discard((rt, key))
        if kind != "DELETED":
            for owner in owner_uids(new):
                self._dependents.setdefault(owner, set()).add((rt, key))
        if len(self._history) == self._history.maxlen:
            self._trimmed_rv = self._history[0].rv
        change = Change(self._rv, rt, kind, new, old)
        self._history.append(change)
        for watch in list(self._watches):
            watch.offer(change)
        return new

    # -- create -----------------------------------------------------------------------------
    def add_admission_hook(self, fn: Callable[[ResourceType, dict], None]) -> None:
        """Run fn(rt, obj) on every create after defaulting and before storing; it may edit obj
        (a mutating webhook) or raise ApiError to reject the request."""
        self._admission.append(fn)

    def create(self, rt: ResourceType, obj: dict, namespace: str | None = None) -> dict:
        obj = self._checked_body(rt, obj)
        meta = obj["metadata"]
        if rt.namespaced:
            body_ns = meta.get("namespace")
            if namespace and body_ns and body_ns != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the "
                                         "namespace sent on the request")
            meta["namespace"] = namespace or body_ns or "default"
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise errors.invalid(rt, "", [required("metadata.name",
                                                       "name or generateName is required")])
            meta["name"] = self._generated_name(rt, meta["namespace"] if rt.namespaced else "",
                                                meta["generateName"])
        name = meta["name"]
        if rt.namespaced:
            self._check_namespace_open(rt, meta["namespace"], name)
        name_errs = name_errors(NAME_RULES.get(rt.plural, "subdomain"), name)
        if name_errs:
            raise errors.invalid(rt, name, name_errs)
        for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
                      "managedFields", "selfLink"):
            meta.pop(field, None)
        meta["uid"] = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        meta["creationTimestamp"] = rfc3339(self.clock.now())
        if rt.plural in TRACKS_GENERATION:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        apply_create_defaults(rt, obj)
        for hook in self._admission:
            hook(rt, obj)
        self._validate(rt, obj)
        self._record(rt, None, obj)
        if (self._ns(rt, meta.get("namespace")), name) in self._objects[rt]:
            raise errors.already_exists(rt, name)
        if rt.plural == "services":
            self._services.allocate(rt, obj, self._objects[rt].values())
        created = clone(self._commit(rt, "ADDED", obj, None))
        if rt.plural == "namespaces" and not self._dry:  # a dry run stores no namespace to fill
            # What the service account controller does for every new namespace: pods name
            # "default" as their service account, and `kubectl get sa` lists it.
            self.create(resolve_rt("serviceaccounts"), {"metadata": {"name": "default"}},
                        namespace=name)
        if self._owners_all_gone(obj):
            # Created for an owner that no longer exists (a controller acting on a stale view):
            # the garbage collector removes it right after, as it would in a real cluster.
            self._delete(rt, self._objects[rt][_key(obj)], None, "Background")
        return created

    def _checked_body(self, rt: ResourceType, obj: Any) -> dict:
        if not isinstance(obj, dict):
            raise errors.bad_request(f"the body of the request is not a {rt.kind} object")
        obj = clone(obj)
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if kind and kind != rt.kind:
            raise errors.bad_request(f'the kind "{kind}" in the body does not match the resource '
                                     f'"{rt.group_resource}" ({rt.kind})')
        if api_version and api_version != rt.api_version:
            raise errors.bad_request(f"the API version in the data ({api_version}) does not match "
                                     f"the expected API version ({rt.api_version})")
        # apiVersion and kind first, as a real server's JSON (and `kubectl get -o yaml`) shows them
        obj = {"apiVersion": rt.api_version, "kind": rt.kind,
               **{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}}
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        return obj

    def _generated_name(self, rt: ResourceType, namespace: str, prefix: str) -> str:
        prefix = prefix[:58]  # as the API server does, leaving room for the suffix
        for _ in range(100):
            name = prefix + "".join(self._rng.choice(GENERATE_NAME_ALPHABET) for _ in range(5))
            if (namespace, name) not in self._objects[rt]:
                return name
        raise errors.already_exists(rt, prefix)

    def _check_namespace_open(self, rt: ResourceType, namespace: str, name: str) -> None:
        ns = self._objects[resolve_rt("namespaces")].get(("", namespace))
        if ns is None:
            raise errors.not_found(resolve_rt("namespaces"), namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(rt, name, f"unable to create new content in namespace "
                                             f"{namespace} because it is being terminated")

    def _validate(self, rt: ResourceType, obj: dict) -> None:
        errs: list[FieldError] = object_errors(rt.plural, obj)
        if errs:
            raise errors.invalid(rt, obj["metadata"].get("name", ""), errs)

    # -- update -----------------------------------------------------------------------------
    def replace(self, rt: ResourceType, obj: dict, namespace: str | None = None) -> dict:
        """PUT: the whole object. A set metadata.resourceVersion must match the stored one.
        Status is kept from the stored object when the type has a status subresource."""
        obj = self._checked_body(rt, obj)
        meta = obj["metadata"]
        ns = self._ns(rt, namespace or meta.get("namespace"))
        name = meta.get("name")
        if not name:
            raise errors.invalid(rt, "", [required("metadata.name", "name is required")])
        cur = self._stored(rt, ns, name)
        self._check_rv(rt, cur, meta.get("resourceVersion"))
        if "status" in rt.subresources:
            obj.pop("status", None)
            if "status" in cur:
                obj["status"] = clone(cur["status"])
        return clone(self._update(rt, cur, obj))

    def replace_status(self, rt: ResourceType, obj: dict, namespace: str | None = None) -> dict:
        """PUT .../status: only status is taken from obj."""
        obj = self._checked_body(rt, obj)
        meta = obj["metadata"]
        cur = self._stored(rt, namespace or meta.get("namespace"), meta.get("name") or "")
        self._check_rv(rt, cur, meta.get("resourceVersion"))
        new = clone(cur)
        new["status"] = clone(obj.get("status") or {})
        return clone(self._update(rt, cur, new))

    def mutate(self, rt: ResourceType, namespace: str | None, name: str,
               fn: Callable[[dict], None], status: bool = False) -> dict | None:
        """Read-modify-write for simulated controllers (no conflict check, they share the loop).
        fn edits a copy in place. status=True is a status write: only fn's status changes are
        kept. Returns the new object, or None if it does not exist. No event if nothing changed."""
        cur = self._objects[rt].get((self._ns(rt, namespace), name))
        if cur is None:
            return None
        work = clone(cur)
        fn(work)
        if status:
            new = clone(cur)
            new["status"] = work.get("status") or {}
        else:
            new = work
        return clone(self._update(rt, cur, new, validate=False))

    def _check_rv(self, rt: ResourceType, cur: dict, rv: str | None) -> None:
        if rv and rv != cur["metadata"]["resourceVersion"]:
            raise errors.modified_conflict(rt, cur["metadata"]["name"])

    def _update(self, rt: ResourceType, cur: dict, new: dict, validate: bool = True) -> dict:
        """Shared tail of every update: server-owned metadata restored, defaults, generation,
        no-op detection, and removal once the last finalizer of a deleted object is gone."""
        meta, cur_meta = new.setdefault("metadata", {}), cur["metadata"]
        if meta.get("name", cur_meta["name"]) != cur_meta["name"]:
            raise errors.bad_request(f"the name of the object ({meta.get('name')}) does not match "
                                     f"the name on the URL ({cur_meta['name']})")
        if rt.namespaced and meta.get("namespace", cur_meta["namespace"]) != cur_meta["namespace"]:
            raise errors.bad_request("the namespace of the provided object does not match the "
                                     "namespace sent on the request")
        meta["name"] = cur_meta["name"]
        if rt.namespaced:
            meta["namespace"] = cur_meta["namespace"]
        for field in SERVER_METADATA:
            meta.pop(field, None)
            if field in cur_meta:
                meta[field] = cur_meta[field]
        new["apiVersion"], new["kind"] = rt.api_version, rt.kind
        self._default_on_update(rt, cur, new)
        if validate:
            errs = object_errors(rt.plural, new) + update_errors(rt.plural, cur, new)
            if errs:
                raise errors.invalid(rt, cur_meta["name"], errs)
        self._record(rt, cur, new)
        if rt.plural in TRACKS_GENERATION and new.get("spec") != cur.get("spec"):
            meta["generation"] = cur_meta.get("generation", 1) + 1
        if meta.get("deletionTimestamp") and cur_meta.get("finalizers") and \
                not meta.get("finalizers") and not meta.get("deletionGracePeriodSeconds"):
            removed = self._remove(rt, new)
            self._collect_dependents(cur_meta["uid"], "Background")
            return removed
        if _same_content(cur, new):
            return cur
        return self._commit(rt, "MODIFIED", new, cur)

    def _default_on_update(self, rt: ResourceType, cur: dict, new: dict) -> None:
        # The API server defaults every request body, not just creates; fields a client may
        # leave out of a PUT (allocated IPs and ports) are carried over from the stored object.
        spec = new.get("spec")
        if not isinstance(spec, dict):
            return
        if rt.plural in ("deployments", "replicasets", "daemonsets", "statefulsets",
                         "replicationcontrollers"):
            template = spec.get("template")
            if isinstance(template, dict) and isinstance(template.get("spec"), dict):
                default_pod_spec(template["spec"])
        elif rt.plural == "pods":
            default_pod_spec(spec)
        elif rt.plural == "services":
            self._services.carry_over(cur, new)

    # -- patch ------------------------------------------------------------------------------
    def patch(self, rt: ResourceType, namespace: str | None, name: str,
              patch_body: bytes | str | dict | list, patch_type: str,
              subresource: str | None = None) -> dict:
        from .patch import apply_patch, check_patch_type  # loads the schemas lazily

        check_patch_type(rt, patch_type)
        cur = self._stored(rt, namespace, name)
        if subresource == "scale":
            if "scale" not in rt.subresources:
                raise errors.not_found(rt, name)
            scale = apply_patch(rt, self._scale_of(rt, cur), patch_body, patch_type,
                                schema_kind="io.k8s.api.autoscaling.v1.Scale")
            return self.replace_scale(rt, namespace, name, scale)
        patched = apply_patch(rt, clone(cur), patch_body, patch_type)
        if not isinstance(patched, dict):
            raise errors.bad_request("the patch did not produce an object")
        patched.setdefault("metadata", {})
        self._check_rv(rt, cur, patched["metadata"].get("resourceVersion"))
        if subresource == "status":
            new = clone(cur)
            new["status"] = patched.get("status") or {}
            return clone(self._update(rt, cur, new))
        if subresource is not None:
            raise errors.ApiError(404, "NotFound", f'the server could not find the requested '
                                                   f'resource ({rt.plural}/{subresource})')
        if "status" in rt.subresources:
            patched.pop("status", None)
            if "status" in cur:
                patched["status"] = clone(cur["status"])
        return clone(self._update(rt, cur, patched))

    # -- scale subresource ------------------------------------------------------------------
    def _scale_of(self, rt: ResourceType, obj: dict) -> dict:
        from .selectors import label_selector_from_match

        meta = obj["metadata"]
        selector = (obj.get("spec") or {}).get("selector")
        if rt.plural == "replicationcontrollers" and selector:
            selector = {"matchLabels": selector}  # a ReplicationController's is a plain map
        return {
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                              "creationTimestamp") if k in meta},
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": str(label_selector_from_match(selector)) if selector else ""},
        }

    def get_scale(self, rt: ResourceType, namespace: str | None, name: str) -> dict:
        if "scale" not in rt.subresources:
            raise errors.not_found(rt, name)
        return self._scale_of(rt, self._stored(rt, namespace, name))

    def replace_scale(self, rt: ResourceType, namespace: str | None, name: str,
                      scale: dict) -> dict:
        if "scale" not in rt.subresources:
            raise errors.not_found(rt, name)
        cur = self._stored(rt, namespace, name)
        self._check_rv(rt, cur, (scale.get("metadata") or {}).get("resourceVersion"))
        replicas = (scale.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.invalid(rt, name, [FieldError(
                "FieldValueInvalid", "spec.replicas",
                f"Invalid value: {json.dumps(replicas)}: must be greater than or equal to 0")])
        new = clone(cur)
        new["spec"]["replicas"] = replicas
        return self._scale_of(rt, self._update(rt, cur, new))

    # -- watch ------------------------------------------------------------------------------
    def watch(self, rt: ResourceType, namespace: str | None = None,
              resource_version: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None, initial_events: bool = False) -> Watch:
        """Changes after resource_version (replayed from history, 410 if trimmed), or from now
        when it is None or "0". initial_events=True first sends an ADDED for every matching
        object (what the HTTP server needs for a watch without resourceVersion), atomically with
        the subscription."""
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, rt)
        since: int | None = None
        if resource_version not in (None, "", "0"):
            try:
                since = int(resource_version)
            except ValueError:
                raise errors.bad_request(f'invalid resource version "{resource_version}"') from None
            if since < self._trimmed_rv:
                raise errors.gone(f"too old resource version: {since} ({self._trimmed_rv})")
        w = Watch(rt, namespace if rt.namespaced else None, labels, fields,
                  self._watches.discard, lambda: self._rv)
        if initial_events:
            for obj in self._iter(rt, namespace):
                w.offer_initial(obj)
        if since is not None:
            for change in self._history:
                if change.rv > since:
                    w.offer(change)
        self._watches.add(w)
        return w

    def close_all_watches(self) -> None:
        """End every open watch (what clients see when the API server restarts)."""
        for w in list(self._watches):
            w.close("server closed")

    @property
    def open_watches(self) -> int:
        return len(self._watches)

    # -- events -----------------------------------------------------------------------------
    def _remember_event(self, agg_key: tuple[str, str, str], where: Key) -> None:
        self._event_index[agg_key] = where
        self._event_keys[where] = agg_key

    def _forget_event(self, where: Key) -> None:
        agg_key = self._event_keys.pop(where, None)
        if agg_key is not None and self._event_index.get(agg_key) == where:
            del self._event_index[agg_key]

    def record_event(self, involved: dict, reason: str, message: str, type: str = "Normal",
                     component: str = "", host: str | None = None,
                     field_path: str | None = None) -> dict:
        from .events import record_event

        return record_event(self, involved, reason, message, type, component, host, field_path)
