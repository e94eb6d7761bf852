"""iagent-tui: an operator cockpit for moving EKS workloads onto AWS Fargate."""
__version__ = "0.1.0"
