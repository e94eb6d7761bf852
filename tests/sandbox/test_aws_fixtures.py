"""Shared fixtures and helpers for the AWS sandbox tests (imported by the test_aws_* modules).

The gateway runs on the test's event loop, so boto3 (blocking) is always called through
``asyncio.to_thread`` and the aws CLI through an asyncio subprocess.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from functools import cache
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from iagent_sandbox.aws.sandbox import AwsSandbox
from iagent_sandbox.aws.timings import AwsTimings
from iagent_sandbox.clock import SandboxClock

CLUSTER = "iagent-cluster"
SEED = 7
_session_lock = threading.Lock()


@cache
def _session() -> boto3.session.Session:
    # One session for every test client: botocore caches parsed service models per session.
    return boto3.session.Session()


def make_sandbox(speed: float = 1000.0, timings: AwsTimings | None = None, seed: int = SEED,
                 account_id: str = "123456789012") -> AwsSandbox:
    return AwsSandbox(SandboxClock(speed=speed, seed=seed), timings=timings, account_id=account_id)


class Aws:
    """A started, seeded sandbox plus boto3 clients for it."""

    def __init__(self, sandbox: AwsSandbox, ids: dict[str, Any]) -> None:
        self.sandbox = sandbox
        self.ids = ids
        self._clients: dict[str, Any] = {}

    def client(self, service: str, max_attempts: int = 1) -> Any:
        key = f"{service}:{max_attempts}"
        if key not in self._clients:
            with _session_lock:
                self._clients[key] = _session().client(
                    service,
                    endpoint_url=self.sandbox.endpoint,
                    region_name=self.sandbox.region,
                    aws_access_key_id=self.sandbox.access_key_id,
                    aws_secret_access_key=self.sandbox.secret_access_key,
                    config=Config(retries={"total_max_attempts": max_attempts, "mode": "standard"}),
                )
        return self._clients[key]

    async def call(self, service: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        client = self.client(service)
        return await asyncio.to_thread(getattr(client, operation), **kwargs)

    async def error(self, service: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        """Call and expect a ClientError; return its parsed error and HTTP status."""
        client = self.client(service)
        try:
            await asyncio.to_thread(getattr(client, operation), **kwargs)
        except client.exceptions.ClientError as exc:
            return {
                "code": exc.response["Error"]["Code"],
                "message": exc.response["Error"]["Message"],
                "status": exc.response["ResponseMetadata"]["HTTPStatusCode"],
                "response": exc.response,
            }
        raise AssertionError(f"{service}.{operation} succeeded but an error was expected")

    async def cli(self, *args: str, check: bool = True) -> tuple[int, Any, str]:
        """Run the aws CLI against the sandbox; return (exit code, parsed JSON stdout, stderr)."""
        env = {**os.environ, **self.sandbox.env(), "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": ""}
        env.pop("AWS_PROFILE", None)
        proc = await asyncio.create_subprocess_exec(
            "aws", *args, "--output", "json",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        text = out.decode()
        if check and proc.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({proc.returncode}): {err.decode()}")
        return proc.returncode or 0, json.loads(text) if text.strip() else None, err.decode()


async def wait_for(predicate: Callable[[], Awaitable[Any]], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll an async predicate until it returns something truthy (the sandbox clock runs fast;
    this waits on the outcome, not on a guessed duration)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


async def started(sandbox: AwsSandbox, scenario: str = "pre-migration") -> Aws:
    ids = sandbox.seed(scenario)
    await sandbox.start()
    return Aws(sandbox, ids)


@pytest.fixture
async def aws() -> AsyncIterator[Aws]:
    sandbox = make_sandbox()
    env = await started(sandbox)
    try:
        yield env
    finally:
        await sandbox.stop()
