"""The sandbox's simulated controllers. Each module exposes ``async def run(world)``; this module
starts them all as tasks owned by the runtime, which cancels them on stop."""

from __future__ import annotations

import asyncio
import importlib
import logging

log = logging.getLogger(__name__)

# Order matters only for start-up: admission hooks (fargate) must be registered before the
# scenario creates its first pod, and the node group must exist before pods are scheduled.
CONTROLLER_MODULES = (
    "fargate",
    "nodegroup",
    "scheduler",
    "kubelet",
    "workloads",
    "profiles",
    "coredns_addon",
    "lbc",
)


def start_controllers(world) -> list[asyncio.Task]:
    tasks = []
    for name in CONTROLLER_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        task = asyncio.create_task(_supervised(name, module.run, world), name=f"controller:{name}")
        tasks.append(task)
    return tasks


async def _supervised(name: str, run, world) -> None:
    """A controller that crashes is logged and restarted, as a real one would be by its
    Deployment: one bug must not freeze the whole twin."""
    backoff = 0.1
    while True:
        try:
            await run(world)
            return
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - logged, then restarted
            log.exception("sandbox controller %s crashed; restarting", name)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
