"""Shared set-up for the AWS-linked dynamics tests: a seeded AwsSandbox and an object store on the
test's event loop, the controllers under test as tasks, and boto3 clients that reach the sandbox
over HTTP from a worker thread (boto3 is sync; the gateway answers on this loop)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from iagent_sandbox.clock import SandboxClock
from iagent_sandbox.world import SandboxWorld

SPEED = 500.0


class Harness:
    def __init__(self, world: SandboxWorld) -> None:
        self.world = world
        self.tasks: list[asyncio.Task] = []
        self._session = boto3.session.Session(
            aws_access_key_id=world.aws.access_key_id, aws_secret_access_key=world.aws.secret_access_key,
            region_name=world.region)
        self._clients: dict[str, Any] = {}

    def start(self, *modules) -> None:
        for module in modules:
            self.tasks.append(asyncio.create_task(module.run(self.world), name=module.__name__))

    async def call(self, service: str, operation: str, **kwargs: Any) -> Any:
        """One boto3 call against the sandbox endpoint, off the loop that serves it."""
        if service not in self._clients:
            # Fail in seconds, not after botocore's default 60 s read timeout times its retries, so
            # a stuck request shows up as a clear error instead of eating the test's time limit.
            self._clients[service] = self._session.client(
                service, endpoint_url=self.world.aws.endpoint,
                config=Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3}))
        client = self._clients[service]
        return await asyncio.to_thread(getattr(client, operation), **kwargs)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
        """Poll a (sync or async) condition until truthy; fails loudly if a controller task died."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for task in self.tasks:
                if task.done() and not task.cancelled() and task.exception():
                    raise task.exception()
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            last = value
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


@contextlib.asynccontextmanager
async def harness(scenario: str = "pre-migration", seed: int = 1, speed: float = SPEED):
    from iagent_sandbox.aws.sandbox import AwsSandbox
    from iagent_sandbox.kube.store import ObjectStore

    clock = SandboxClock(speed=speed, seed=seed)
    aws = AwsSandbox(clock)
    await aws.start()
    try:
        aws.seed(scenario)
        world = SandboxWorld(clock=clock, store=ObjectStore(clock), aws=aws, scenario=scenario)
        h = Harness(world)
        try:
            yield h
        finally:
            await h.stop()
    finally:
        await aws.stop()
