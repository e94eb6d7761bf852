"""What checking identities costs (issue #11): the AWS endpoint's SigV4 check and the restricted
IAM user's policy evaluation per call, and RBAC per Kubernetes request for the read-only user.

Server and clients share this process (a sandbox on its own loop in a thread), so the numbers are
for comparing the variants with each other, all measured under the same conditions: boto3
DescribeCluster with the admin's keys (signature checked), the same with the check switched off,
and with the restricted user's keys (signature + policy); a namespace's pod list as the admin
(system:masters, no RBAC lookup) and as the read-only user (RBAC through the bindings)."""

from __future__ import annotations

import statistics
import time

CALLS = 200


def _median_ms(call, n: int = CALLS) -> float:
    call()  # warm: connections, botocore's model
    times = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run() -> None:
    import boto3
    from botocore.config import Config
    from kubernetes import client

    from iagent_sandbox.runtime import SandboxThread

    sandbox = SandboxThread(speed=10, seed=0)
    info = sandbox.start()
    try:
        def eks(key: str, secret: str):
            return boto3.session.Session().client(
                "eks", endpoint_url=info.aws_endpoint, region_name=info.region,
                aws_access_key_id=key, aws_secret_access_key=secret,
                config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
        admin = eks(info.access_key_id, info.secret_access_key)
        restricted = eks(info.readonly_access_key_id, info.readonly_secret_access_key)
        gateway = sandbox.runtime.world.aws._gateway
        checked = _median_ms(lambda: admin.describe_cluster(name=info.cluster_name))
        policy = _median_ms(lambda: restricted.describe_cluster(name=info.cluster_name))
        guard, gateway.guard = gateway.guard, None
        try:
            unchecked = _median_ms(lambda: admin.describe_cluster(name=info.cluster_name))
        finally:
            gateway.guard = guard

        import tempfile
        ca = tempfile.NamedTemporaryFile(suffix=".crt", delete=False)
        ca.write(info.ca_pem)
        ca.close()

        def core(token: str):
            cfg = client.Configuration()
            cfg.host, cfg.ssl_ca_cert = info.kube_url, ca.name
            cfg.api_key, cfg.api_key_prefix = {"BearerToken": token}, {"BearerToken": "Bearer"}
            return client.CoreV1Api(client.ApiClient(cfg))
        core_admin, core_ro = core(info.token), core(info.readonly_token)
        as_admin = _median_ms(lambda: core_admin.list_namespaced_pod("prod"))
        as_viewer = _median_ms(lambda: core_ro.list_namespaced_pod("prod"))
    finally:
        sandbox.stop()
    print(f"authz: median of {CALLS} calls each (client and sandbox in one process)")
    print(f"  AWS DescribeCluster, admin keys, SigV4 checked      {checked:6.2f} ms")
    print(f"  AWS DescribeCluster, admin keys, check switched off {unchecked:6.2f} ms")
    print(f"  AWS DescribeCluster, restricted user (SigV4+policy) {policy:6.2f} ms")
    print(f"  Kubernetes list pods -n prod, admin (no RBAC)       {as_admin:6.2f} ms")
    print(f"  Kubernetes list pods -n prod, read-only user (RBAC) {as_viewer:6.2f} ms")
