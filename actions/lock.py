"""One action at a time per cluster: a Lease in kube-system names the run that holds the cluster.

The lock is kept in the cluster, not on a laptop, so it holds across processes, machines and
people. Acquiring is a create (the API server lets exactly one create win); a Lease left by a run
that died (not renewed within its duration) is taken over only with the operator's consent, by an
update carrying the resourceVersion that was read, so of two takers only one can win. While the
action runs a background task renews the Lease; at the end, whatever the outcome, it is deleted
(only the version this run wrote: a Lease someone else took over is left alone).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from iagent_tui.services.errors import ServiceError
from iagent_tui.services.kube import KubeClient
from iagent_tui.services.leases import Leases, micro_time, parse_time

from .journal import who

LOCK_NAMESPACE = "kube-system"
LOCK_NAME = "iagent-tui-action"
LEASE_SECONDS = 60
TAKE_OVER_FLAG = "--take-over-lock"
_PREFIX = "iagent-tui.io/"
ACTION, STARTED, CLUSTER, USER, PID, RUN = (f"{_PREFIX}{k}" for k in ("action", "started", "cluster", "user", "pid", "run"))
CHECK = f"kubectl get lease -n {LOCK_NAMESPACE} {LOCK_NAME}"
RELEASE_TIMEOUT_SECONDS = 10.0


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _clock(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "an unknown time"
    when = when.astimezone(timezone.utc)
    return when.strftime("%H:%M:%S UTC" if when.date() == now.date() else "%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class Holder:
    """Who holds the Lease, read back from it (a Lease written by another tool has no annotations:
    its holderIdentity is all there is)."""

    identity: str
    user: str
    pid: str
    action: str
    cluster: str
    run: str
    started: datetime | None
    renewed: datetime | None
    duration: int
    resource_version: str

    @classmethod
    def from_lease(cls, lease: dict) -> Holder:
        meta, spec = lease.get("metadata") or {}, lease.get("spec") or {}
        notes = meta.get("annotations") or {}
        acquired = parse_time(spec.get("acquireTime"))
        return cls(identity=spec.get("holderIdentity") or "", user=notes.get(USER, ""), pid=notes.get(PID, ""),
                   action=notes.get(ACTION, ""), cluster=notes.get(CLUSTER, ""), run=notes.get(RUN, ""),
                   started=parse_time(notes.get(STARTED)) or acquired,
                   renewed=parse_time(spec.get("renewTime")) or acquired,
                   duration=int(spec.get("leaseDurationSeconds") or LEASE_SECONDS),
                   resource_version=str(meta.get("resourceVersion", "")))

    @property
    def held(self) -> bool:
        return bool(self.identity)

    def expired(self, now: datetime) -> bool:
        # A holder that never said when it renewed cannot be shown to be alive.
        return self.renewed is None or self.renewed + timedelta(seconds=self.duration) < now

    def describe(self) -> str:
        return f"{self.user} (pid {self.pid})" if self.user and self.pid else self.identity

    def since(self, now: datetime | None = None) -> str:
        return _clock(self.started, now or _utcnow())

    def running(self, now: datetime) -> str:
        """As in: deploy already running since 10:42:07 UTC by alice@laptop (pid 4242)."""
        return f"{self.action or 'an action'} already running since {self.since(now)} by {self.describe()}"


TakeOver = Callable[[Holder], "bool | Awaitable[bool]"]


class LockRefused(Exception):
    """The cluster is held by another run; the message says by whom and what to do."""

    def __init__(self, message: str, holder: Holder) -> None:
        super().__init__(message)
        self.message = message
        self.holder = holder


class ClusterLock:
    """``outcome = await lock.acquire(action, take_over)`` ... ``await lock.release()``.

    ``lost`` becomes a sentence when renewing found the Lease deleted or held by another run; the
    runner stops the action at the next event rather than go on without the lock."""

    def __init__(self, kube: KubeClient, cluster: str, *, duration: int = LEASE_SECONDS,
                 renew_every: float | None = None, namespace: str = LOCK_NAMESPACE, name: str = LOCK_NAME,
                 user: str | None = None, pid: int | None = None,
                 now: Callable[[], datetime] = _utcnow) -> None:
        self.leases = Leases(kube, namespace)
        self.cluster = cluster
        self.name = name
        self.duration = duration
        # Renew at a third of the duration: two renewals may fail before the Lease can expire.
        self.renew_every = renew_every if renew_every is not None else duration / 3
        self.user = user or who()
        self.pid = str(pid if pid is not None else os.getpid())
        self.run = uuid.uuid4().hex
        self.now = now
        self._lease: dict | None = None  # as last written by this run
        self._renewer: asyncio.Task | None = None
        self.previous: Holder | None = None  # the holder this run took over from
        self.lost = ""
        self.renewals = 0

    @property
    def identity(self) -> str:
        return f"{self.user} pid {self.pid}"

    @property
    def held(self) -> bool:
        return self._lease is not None

    async def holder(self) -> Holder | None:
        """The current holder, None when the Lease is absent or nobody holds it."""
        lease = await self.leases.get(self.name)
        found = Holder.from_lease(lease) if lease else None
        return found if found and found.held else None

    async def busy(self) -> Holder | None:
        """A live holder that is not this run (a refusal is certain), else None."""
        found = await self.holder()
        return found if found and found.run != self.run and not found.expired(self.now()) else None

    def _desired(self, action: str, acquired: datetime, read: dict | None = None) -> dict:
        meta = dict((read or {}).get("metadata") or {})
        meta.update(name=self.name, annotations={
            **(meta.get("annotations") or {}), ACTION: action, STARTED: acquired.strftime("%Y-%m-%dT%H:%M:%SZ"),
            CLUSTER: self.cluster, USER: self.user, PID: self.pid, RUN: self.run})
        transitions = int(((read or {}).get("spec") or {}).get("leaseTransitions") or 0)
        return {"metadata": meta, "spec": {
            "holderIdentity": self.identity, "leaseDurationSeconds": self.duration,
            "acquireTime": micro_time(acquired), "renewTime": micro_time(acquired),
            "leaseTransitions": transitions + 1 if read is not None else 0}}

    async def acquire(self, action: str, take_over: TakeOver | None = None) -> str:
        """Returns "acquired" or "taken-over"; raises LockRefused (nothing written) when another
        run holds the lock."""
        now = self.now()
        self.previous = None
        created = await self.leases.create(self._desired(action, now))
        if created is not None:
            return self._hold(created, "acquired")
        read = await self.leases.get(self.name)
        if read is None:  # released between our create and our read: try once more
            created = await self.leases.create(self._desired(action, self.now()))
            if created is not None:
                return self._hold(created, "acquired")
            read = await self.leases.get(self.name) or {}
        current = Holder.from_lease(read)
        if current.held and not current.expired(now):
            raise LockRefused(f"{current.running(now)}; wait for it or check {CHECK}", current)
        if current.held and not await self._consent(take_over, current):
            raise LockRefused(self.expired_message(current, now, action), current)
        written = await self.leases.replace(self._desired(action, self.now(), read))
        if written is None:
            # Another taker updated the version we read: it won.
            winner = await self.holder()
            raise LockRefused(f"another run took the lock first: {winner.running(self.now()) if winner else 'gone again'}; "
                              f"wait for it or check {CHECK}", winner or current)
        self.previous = current if current.held else None
        return self._hold(written, "taken-over" if current.held else "acquired")

    def expired_message(self, current: Holder, now: datetime, action: str) -> str:
        silent = int((now - current.renewed).total_seconds()) if current.renewed else None
        since = f"stopped renewing it {silent} s ago" if silent is not None else "never renewed it"
        return (f"the cluster lock is held by {current.describe()} ({current.action or 'an action'} since "
                f"{current.since(now)}), which {since} (lease {current.duration} s): that run is probably gone. "
                f"Check {CHECK}, then run `iagent-tui {action} {TAKE_OVER_FLAG}` to take the lock over")

    @staticmethod
    async def _consent(take_over: TakeOver | None, current: Holder) -> bool:
        if take_over is None:
            return False
        answer = take_over(current)
        return bool(await answer if inspect.isawaitable(answer) else answer)

    def _hold(self, lease: dict, outcome: str) -> str:
        self._lease = lease
        self.lost = ""
        self._renewer = asyncio.create_task(self._renew_forever(), name=f"renew lease {self.name}")
        return outcome

    async def _renew_forever(self) -> None:
        while self._lease is not None:
            await asyncio.sleep(self.renew_every)
            try:
                await self.renew()
            except ServiceError:
                continue  # unreachable for a moment: the next tick tries again, the lease has slack
            if self.lost:
                return

    async def renew(self) -> None:
        assert self._lease is not None
        lease = {"metadata": self._lease["metadata"],
                 "spec": {**self._lease["spec"], "renewTime": micro_time(self.now())}}
        written = await self.leases.replace(lease)
        if written is None:
            current = await self.holder()
            self.lost = (f"lost the cluster lock to {current.describe()} ({CHECK})" if current
                         else f"lost the cluster lock: the Lease was deleted ({CHECK})")
            self._lease = None
            return
        self._lease = written
        self.renewals += 1

    async def release(self) -> bool:
        """Stop renewing and delete the Lease if it is still this run's; True when deleted."""
        lease, self._lease = self._lease, None
        renewer, self._renewer = self._renewer, None
        if renewer is not None:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
        if lease is None:
            return False
        return await asyncio.wait_for(self._delete_ours(lease), RELEASE_TIMEOUT_SECONDS)

    async def _delete_ours(self, lease: dict) -> bool:
        if await self.leases.delete(self.name, str(lease["metadata"].get("resourceVersion", ""))):
            return True
        # A renewal cancelled in flight may have landed: delete it if it is still this run's.
        current = await self.leases.get(self.name)
        if current is None or Holder.from_lease(current).run != self.run:
            return False
        return await self.leases.delete(self.name, str(current["metadata"].get("resourceVersion", "")))
