"""The sandbox's shared state: what every controller and server of the twin is handed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .clock import SandboxClock

if TYPE_CHECKING:  # imported lazily so each part can be built and tested on its own
    from .aws.sandbox import AwsSandbox
    from .kube.store import ObjectStore


@dataclass
class SandboxWorld:
    clock: SandboxClock
    store: "ObjectStore"
    aws: "AwsSandbox"
    cluster_name: str = "iagent-cluster"
    region: str = "eu-central-1"
    scenario: str = "pre-migration"
    # Per-world caches a controller keeps across restarts of its task (e.g. the IP pool).
    extras: dict[str, Any] = field(default_factory=dict)
