"""exec, cp and port-forward (issue #11): one running pod on a bare API server (store + HTTPS
server + the containers' simulated programs, no controllers) in its own process. Times
`kubectl exec POD -- true`, the sync client's exec, `kubectl cp` of 1 MiB each way, and HTTP
requests through one `kubectl port-forward`."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .sandbox_proc import serve_bare_api, timed

from bench.lists import _kubeconfig

TOKEN = "bench-token"
POD = "bench-web"


def serve(directory: Path) -> None:
    from iagent_sandbox.clock import SandboxClock
    from iagent_sandbox.controllers.pod_apps import SandboxApps
    from iagent_sandbox.kube.resources import rt
    from iagent_sandbox.kube.server import KubeApiServer
    from iagent_sandbox.kube.store import ObjectStore

    async def main() -> None:
        clock = SandboxClock(speed=1.0, seed=0)
        store = ObjectStore(clock)
        store.create(rt("pods"), {
            "metadata": {"name": POD, "labels": {"app": "web"}},
            "spec": {"nodeName": "ip-10-0-1-10.eu-central-1.compute.internal",
                     "containers": [{"name": "web", "image": "nginx:1.27",
                                     "ports": [{"containerPort": 80}]}]}}, "default")

        def running(pod: dict) -> None:
            pod["status"].update(phase="Running", podIP="10.0.1.50", containerStatuses=[
                {"name": "web", "ready": True, "restartCount": 0,
                 "state": {"running": {"startedAt": "2030-01-01T00:00:00Z"}}}])
        store.mutate(rt("pods"), "default", POD, running, status=True)
        server = KubeApiServer(store, clock, TOKEN, apps=SandboxApps())
        url = await server.start()
        tmp = directory / "kubeconfig.tmp"
        tmp.write_text(_kubeconfig(url, server.ca_pem))
        tmp.rename(directory / "kubeconfig")
        await asyncio.Event().wait()

    asyncio.run(main())


def run(runs: int = 5, requests: int = 200) -> dict:
    if shutil.which("kubectl") is None:
        print("streams: kubectl is not on PATH; nothing measured")
        return {}
    directory = Path(tempfile.mkdtemp(prefix="iagent-bench-streams-"))
    proc = serve_bare_api("bench.streams", directory, ready="kubeconfig")
    kc = str(directory / "kubeconfig")
    env = {**os.environ, "KUBECONFIG": kc}
    forward = None
    try:
        from kubernetes import client, config
        from kubernetes.stream import stream
        core = client.CoreV1Api(config.new_client_from_config(config_file=kc))
        blob = directory / "blob"
        blob.write_bytes(os.urandom(1024 * 1024))

        def kubectl(*args: str) -> None:
            subprocess.run(["kubectl", *args], env=env, check=True, capture_output=True, timeout=60)

        def client_exec() -> None:
            assert stream(core.connect_get_namespaced_pod_exec, POD, "default", command=["true"],
                          stdin=False, stdout=True, stderr=True, tty=False) == ""

        result = {
            "kubectl_exec_true": timed(lambda: kubectl("exec", POD, "--", "true"), runs),
            "client_stream_exec": timed(client_exec, runs),
            "kubectl_cp_1MiB_in": timed(lambda: kubectl("cp", str(blob), f"default/{POD}:/tmp/blob"), runs),
            "kubectl_cp_1MiB_out": timed(lambda: kubectl("cp", f"default/{POD}:/tmp/blob",
                                                          str(directory / "back")), runs),
        }
        assert (directory / "back").read_bytes() == blob.read_bytes()
        forward = subprocess.Popen(["kubectl", "port-forward", f"pod/{POD}", ":80"], env=env,
                                   stdout=subprocess.PIPE, text=True)
        line = forward.stdout.readline()
        local = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        started = time.monotonic()
        for _ in range(requests):
            with urllib.request.urlopen(f"http://127.0.0.1:{local}/", timeout=30) as resp:
                assert resp.status == 200
        per_request = (time.monotonic() - started) / requests
    finally:
        if forward is not None:
            forward.kill()
            forward.wait()
        proc.kill()
        proc.wait()
    print(f"exec / cp / port-forward on a bare API server in its own process ({runs} runs, medians):")
    for name, (median, times) in result.items():
        print(f"  {name:22s} {median * 1000:7.0f} ms  (runs: {', '.join(f'{t * 1000:.0f}' for t in times)})")
    print(f"  {'port_forward_http_get':22s} {per_request * 1000:7.1f} ms a request "
          f"({requests} requests, one connection each, through one kubectl port-forward)")
    return {**{name: median for name, (median, _) in result.items()}, "port_forward_get": per_request}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(Path(sys.argv[2]))
    else:
        run()
