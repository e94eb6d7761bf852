"""Deletion for the object store: graceful pod termination, finalizers, the garbage collector's
ownerReference rules and namespace termination, all done synchronously on the store's loop.

A mixin of ObjectStore (it uses the store's tables and ``_commit``); kept apart so each file
reads in one sitting.
"""

from __future__ import annotations

from datetime import timedelta

from ..clock import rfc3339
from . import errors
from .clone import clone
from .defaults import TRACKS_GENERATION
from .resources import RESOURCES, ResourceType, rt_for_kind
from .resources import rt as resolve_rt

UNDELETABLE_NAMESPACES = ("default", "kube-public", "kube-system")
PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")


def _key(obj: dict) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace") or "", meta["name"]


def owner_uids(obj: dict | None) -> set[str]:
    if obj is None:
        return set()
    return {r.get("uid") for r in (obj["metadata"].get("ownerReferences") or []) if r.get("uid")}


class Deletion:
    """Needs from the store: clock, _objects, _by_uid, _dependents, _ns_counts, _stored(),
    _commit() and _forget_event()."""

    # -- delete -----------------------------------------------------------------------------
    def delete(self, rt: ResourceType, namespace: str | None, name: str,
               grace_period_seconds: int | None = None, propagation_policy: str = "Background",
               preconditions: dict | None = None) -> dict | None:
        """Returns the object's last state: still present with deletionTimestamp set (graceful
        pod deletion, finalizers) or as removed."""
        if propagation_policy not in PROPAGATION_POLICIES:
            raise errors.ApiError(422, "Invalid", 'DeleteOptions.meta.k8s.io "" is invalid: '
                                  f'propagationPolicy: Unsupported value: "{propagation_policy}": '
                                  'supported values: "Foreground", "Background", "Orphan"')
        cur = self._stored(rt, namespace, name)
        self._check_preconditions(rt, cur, preconditions or {})
        if rt.plural == "namespaces":
            return clone(self._delete_namespace(cur))
        return clone(self._delete(rt, cur, grace_period_seconds, propagation_policy))

    def _check_preconditions(self, rt: ResourceType, cur: dict, pre: dict) -> None:
        meta = cur["metadata"]
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise errors.conflict(rt, meta["name"], f"Precondition failed: UID in precondition: "
                                                    f"{pre['uid']}, UID in object meta: {meta['uid']}")
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise errors.conflict(rt, meta["name"], "Precondition failed: ResourceVersion in "
                                  f"precondition: {pre['resourceVersion']}, ResourceVersion in "
                                  f"object meta: {meta['resourceVersion']}")

    def _delete(self, rt: ResourceType, cur: dict, grace: int | None, policy: str) -> dict:
        grace = self._grace(rt, cur, grace)
        meta = cur["metadata"]
        if grace > 0 or meta.get("finalizers"):
            if meta.get("deletionTimestamp") and (
                    grace >= (meta.get("deletionGracePeriodSeconds") or 0)):
                return cur  # already terminating at least this fast
            new = clone(cur)
            new["metadata"]["deletionTimestamp"] = rfc3339(
                self.clock.now() + timedelta(seconds=grace))
            new["metadata"]["deletionGracePeriodSeconds"] = grace
            if policy == "Orphan":
                self._orphan_dependents(meta["uid"])
            if rt.plural in TRACKS_GENERATION:
                new["metadata"]["generation"] = meta.get("generation", 1) + 1
            return self._commit(rt, "MODIFIED", new, cur)
        if policy == "Foreground" and self._live_dependents(meta["uid"]):
            return self._delete_foreground(rt, cur)
        if policy == "Orphan":
            self._orphan_dependents(meta["uid"])
            cur = self._objects[rt].get(_key(cur), cur)
        removed = self._remove(rt, cur)
        if policy == "Background":
            self._collect_dependents(meta["uid"], "Background")
        return removed

    @staticmethod
    def _grace(rt: ResourceType, cur: dict, grace: int | None) -> int:
        """Pods terminate gracefully only once bound to a node and not yet finished (the pod
        registry's CheckGracefulDelete); other objects go at once."""
        if rt.plural != "pods":
            return 0
        if not (cur.get("spec") or {}).get("nodeName"):
            return 0
        if (cur.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return 0
        if grace is None:
            grace = (cur.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        return max(0, int(grace))

    def finalize_pod(self, namespace: str, name: str) -> None:
        """The kubelet's final delete once containers have stopped (grace period 0)."""
        pods = resolve_rt("pods")
        cur = self._objects[pods].get((namespace, name))
        if cur is None:
            return
        if cur["metadata"].get("finalizers"):
            new = clone(cur)
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new["metadata"].setdefault("deletionTimestamp", rfc3339(self.clock.now()))
            self._commit(pods, "MODIFIED", new, cur)
            return
        uid = cur["metadata"]["uid"]
        self._remove(pods, cur)
        self._collect_dependents(uid, "Background")

    def _remove(self, rt: ResourceType, cur: dict) -> dict:
        gone = clone(cur)
        removed = self._commit(rt, "DELETED", gone, cur)
        if rt.plural == "events":
            self._forget_event(_key(cur))
        for owner_uid in owner_uids(cur):
            self._finish_foreground(owner_uid)
        if rt.namespaced:
            self._finish_namespace_if_empty(cur["metadata"]["namespace"])
        return removed

    # -- garbage collection -----------------------------------------------------------------
    def _owners_all_gone(self, obj: dict) -> bool:
        refs = obj["metadata"].get("ownerReferences") or []
        served = [r for r in refs if rt_for_kind(r.get("apiVersion", ""), r.get("kind", ""))]
        # Owners of kinds this store does not serve (Jobs, ControllerRevisions) are unknown,
        # not absent: such objects are left alone.
        return bool(refs) and len(served) == len(refs) and \
            not any(r.get("uid") in self._by_uid for r in served)

    def _collect_dependents(self, owner_uid: str, policy: str) -> None:
        """Delete dependents whose every owner is gone; drop the dangling reference from those
        that still have a live owner (the garbage collector's rules, done synchronously)."""
        for rt, key in self._dependents_of(owner_uid):
            dep = self._objects[rt].get(key)
            if dep is None:
                continue
            live = [u for u in owner_uids(dep) if u != owner_uid and u in self._by_uid]
            if live:
                self._drop_owner_ref(rt, dep, owner_uid)
            elif not dep["metadata"].get("deletionTimestamp"):
                self._delete(rt, dep, None, policy)
        self._forget_owner_if_done(owner_uid)

    def _dependents_of(self, owner_uid: str) -> list[tuple[ResourceType, tuple[str, str]]]:
        # A sorted copy: deleting dependents edits the index while we walk it.
        return sorted(self._dependents.get(owner_uid, set()), key=lambda d: (d[0].plural, d[1]))

    def _forget_owner_if_done(self, owner_uid: str) -> None:
        if owner_uid not in self._by_uid and not self._dependents.get(owner_uid):
            self._dependents.pop(owner_uid, None)

    def _live_dependents(self, owner_uid: str, blocking_only: bool = False) -> list[dict]:
        found = []
        for rt, key in self._dependents.get(owner_uid, set()):
            dep = self._objects[rt].get(key)
            if dep is None:
                continue
            refs = [r for r in dep["metadata"].get("ownerReferences") or []
                    if r.get("uid") == owner_uid]
            if not blocking_only or any(r.get("blockOwnerDeletion") for r in refs):
                found.append(dep)
        return found

    def _delete_foreground(self, rt: ResourceType, cur: dict) -> dict:
        """Foreground cascading: the owner stays, marked with the foregroundDeletion finalizer,
        until every dependent that blocks owner deletion is gone; dependents are deleted in the
        foreground too, so a Deployment waits for its ReplicaSets, which wait for their pods."""
        new = clone(cur)
        meta = new["metadata"]
        meta.setdefault("deletionTimestamp", rfc3339(self.clock.now()))
        meta.setdefault("deletionGracePeriodSeconds", 0)
        if "foregroundDeletion" not in (meta.get("finalizers") or []):
            meta["finalizers"] = (meta.get("finalizers") or []) + ["foregroundDeletion"]
        if rt.plural in TRACKS_GENERATION and not cur["metadata"].get("deletionTimestamp"):
            meta["generation"] = cur["metadata"].get("generation", 1) + 1
        owner = self._commit(rt, "MODIFIED", new, cur)
        self._collect_dependents(meta["uid"], "Foreground")
        self._finish_foreground(meta["uid"])
        return self._objects[rt].get(_key(owner), owner)

    def _finish_foreground(self, owner_uid: str) -> None:
        """Remove the foregroundDeletion finalizer once no blocking dependent is left."""
        where = self._by_uid.get(owner_uid)
        if where is None:
            return
        rt, key = where
        owner = self._objects[rt][key]
        finalizers = owner["metadata"].get("finalizers") or []
        if "foregroundDeletion" not in finalizers or self._live_dependents(owner_uid, True):
            return
        new = clone(owner)
        rest = [f for f in finalizers if f != "foregroundDeletion"]
        if rest:
            new["metadata"]["finalizers"] = rest
            self._commit(rt, "MODIFIED", new, owner)
            return
        new["metadata"].pop("finalizers", None)
        self._remove(rt, new)
        self._collect_dependents(owner_uid, "Background")

    def _orphan_dependents(self, owner_uid: str) -> None:
        for rt, key in self._dependents_of(owner_uid):
            dep = self._objects[rt].get(key)
            if dep is not None:
                self._drop_owner_ref(rt, dep, owner_uid)
        self._forget_owner_if_done(owner_uid)

    def _drop_owner_ref(self, rt: ResourceType, dep: dict, owner_uid: str) -> None:
        new = clone(dep)
        refs = [r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != owner_uid]
        if refs:
            new["metadata"]["ownerReferences"] = refs
        else:
            new["metadata"].pop("ownerReferences", None)
        self._commit(rt, "MODIFIED", new, dep)

    # -- namespaces -------------------------------------------------------------------------
    def _delete_namespace(self, ns: dict) -> dict:
        name = ns["metadata"]["name"]
        if name in UNDELETABLE_NAMESPACES:
            raise errors.forbidden(resolve_rt("namespaces"), name,
                                   "this namespace may not be deleted")
        if not ns["metadata"].get("deletionTimestamp"):
            new = clone(ns)
            new["metadata"]["deletionTimestamp"] = rfc3339(self.clock.now())
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new["status"] = {"phase": "Terminating"}
            ns = self._commit(resolve_rt("namespaces"), "MODIFIED", new, ns)
        for rt in RESOURCES:
            if not rt.namespaced:
                continue
            for obj in list(self._iter(rt, name)):
                current = self._objects[rt].get(_key(obj))
                if current is not None and not current["metadata"].get("deletionTimestamp"):
                    self._delete(rt, current, None, "Background")
        self._finish_namespace_if_empty(name)
        return self._objects[resolve_rt("namespaces")].get(("", name)) or ns

    def _finish_namespace_if_empty(self, namespace: str) -> None:
        nss = resolve_rt("namespaces")
        ns = self._objects[nss].get(("", namespace))
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if self._ns_counts.get(namespace):
            return
        self._remove(nss, ns)
