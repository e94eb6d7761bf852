"""The sandbox's own implementation of the EKS-on-Fargate rules it enforces: Kubernetes quantity
parsing, pod sizing, profile selection and the fargate-scheduler's rejection clauses.

Written from DOMAIN.md (sections 1, 3.5, 3.8 and 5.2), not shared with the product: the sandbox is
the test oracle, so a mistake in the product's reading of those rules must not be reproduced
here. Where the product and the twin agree, that agreement is evidence.
"""
