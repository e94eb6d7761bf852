"""Plumbing for the controllers that tie the AWS side (moto behind AwsSandbox) to the Kubernetes
side (the object store): store watches that survive API-server restarts, a wake-up signal that
costs nothing while idle, and access to moto that respects the AWS sandbox's lock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from ..kube.resources import ResourceType


async def watch_objects(store, rtype: ResourceType, on_event: Callable[[str, dict], None],
                        namespace: str | None = None, label_selector: str | None = None) -> None:
    """``on_event(type, obj)`` for every current object (ADDED) and every change after, for ever.
    When the store ends the watch (an API server restart, a watcher left behind), subscribe again:
    the controllers are level-triggered, so a fresh ADDED for everything is all they need."""
    while True:
        watch = store.watch(rtype, namespace, label_selector=label_selector, initial_events=True)
        try:
            async for event_type, obj in watch:
                if event_type != "BOOKMARK":
                    on_event(event_type, obj)
        finally:
            watch.close()
        await asyncio.sleep(0)


class Wakeup:
    """Set by watch callbacks and hooks; a controller loop waits on it, or until the next
    simulated deadline it knows of. No deadline and no signal: the loop sleeps for free."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self._event = asyncio.Event()

    def set(self, *_: Any) -> None:
        self._event.set()

    async def wait(self, sim_seconds: float | None = None) -> None:
        timeout = None if sim_seconds is None else self.clock.wall_seconds(sim_seconds)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()


def moto_lock(world):
    """The lock AwsSandbox holds while moto changes state; reading moto's objects from the
    sandbox loop without it could see a dict mid-update on the moto thread."""
    aws = world.aws
    lock = getattr(aws, "lock", None) or getattr(getattr(aws, "engine", None), "lock", None)
    return lock if lock is not None else contextlib.nullcontext()


def aws_client(world, service: str):
    """A boto3 client for the sandbox's own AWS, answered in-process through the AWS sandbox's
    dispatcher (no socket, so it is safe on the loop that also serves the AWS gateway; botocore
    still validates every call). Cached per world."""
    cache = world.extras.setdefault("aws_dynamics_clients", {})
    if service not in cache:
        aws = world.aws
        make = getattr(aws, "client", None)
        if make is not None:
            cache[service] = make(service)
        else:
            from ..aws.local_client import local_client
            # AwsSandbox has no public client factory yet; its seeder builds clients this way.
            cache[service] = local_client(service, aws._dispatcher.handle, region=aws.region,
                                          access_key_id=aws.access_key_id,
                                          secret_access_key=aws.secret_access_key)
    return cache[service]
