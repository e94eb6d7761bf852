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
