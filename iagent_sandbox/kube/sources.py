"""What the API server asks the simulated controllers for: resource usage and container logs.

The server owns the HTTP shapes (metrics.k8s.io objects, pods/log options); the kubelet simulation
owns the numbers and the lines. Both sides meet here so neither imports the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class MetricsSource(Protocol):
    def pod_usage(self, pod: dict) -> dict[str, dict[str, str]] | None:
        """Container name -> {"cpu": "12m", "memory": "34Mi"}; None while the pod is not running."""

    def node_usage(self, node: dict) -> dict[str, str] | None:
        """{"cpu": "250m", "memory": "1200Mi"}; None when the node reports no metrics."""


class LogSource(Protocol):
    def pod_log(self, pod: dict, container: str) -> list[tuple[datetime, str]]:
        """Every line the container wrote so far, oldest first, with simulated timestamps."""


class AppSource(Protocol):
    """The programs in the simulated containers, for exec's ``wget`` and for port-forward."""

    def listens(self, pod: dict, port: int) -> bool:
        """Whether something in the pod accepts TCP connections on the port."""

    def http(self, pod: dict, port: int, method: str, path: str) -> tuple[int, str, bytes, dict[str, str]]:
        """(status, content type, body, extra headers) the pod's server on ``port`` answers."""
