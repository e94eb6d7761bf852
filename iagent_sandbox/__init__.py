"""iagent-tui's local twin of an EKS cluster (installed by the ``sandbox`` extra).

It imports nothing from the product: it keeps its own implementation of EKS's rules
(``eks_rules``), so that what the product and the twin agree on is evidence.
"""

from __future__ import annotations

from importlib.util import find_spec

# Top-level modules of the `sandbox` extra's distributions (pyproject.toml).
REQUIRED_MODULES = ("moto", "boto3", "werkzeug", "jsonpatch", "jsonschema", "kubernetes_validate", "kubernetes")


def missing_modules() -> list[str]:
    """The sandbox's dependencies that are not installed (found without importing them)."""
    return [name for name in REQUIRED_MODULES if find_spec(name) is None]
