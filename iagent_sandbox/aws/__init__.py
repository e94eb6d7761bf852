"""AWS half of the sandbox: moto (EKS, IAM, EC2, ELBv2, STS) behind a loopback gateway that adds what
moto lacks. Entry point: ``sandbox.AwsSandbox``.

Modules: engine (moto in-process, one thread, one lock), gateway (aiohttp endpoint, faults,
listeners), dispatcher (routes EKS extensions, forwards the rest), fargate / nodegroups / addons /
updates / target_health (the extensions), scenarios (seeding), protocol (wire error shapes).
"""
