"""Large lists (issue #10): 5,000 bare pods on a bare API server (store + HTTPS server, no
controllers) in its own process; times one unpaginated list, the same list in pages of 500, and
`kubectl get pods -A -o json` (which pages by 500 itself)."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import ssl
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from .sandbox_proc import serve_bare_api, timed

TOKEN = "bench-token"
NAMESPACES = 10


def _kubeconfig(url: str, ca_pem: bytes) -> str:
    ca = base64.b64encode(ca_pem).decode()
    return ("apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: bench\n  cluster:\n    server: {url}\n"
            f"    certificate-authority-data: {ca}\n"
            "contexts:\n- name: bench\n  context:\n    cluster: bench\n    user: bench\n"
            f"current-context: bench\nusers:\n- name: bench\n  user:\n    token: {TOKEN}\n")


def serve(directory: Path, pods: int) -> None:
    """The server side (a child process): store the pods directly, then serve until killed."""
    from iagent_sandbox.clock import SandboxClock
    from iagent_sandbox.kube.resources import rt
    from iagent_sandbox.kube.server import KubeApiServer
    from iagent_sandbox.kube.store import ObjectStore

    async def main() -> None:
        clock = SandboxClock(speed=1.0, seed=0)
        store = ObjectStore(clock)
        for n in range(NAMESPACES):
            store.create(rt("namespaces"), {"metadata": {"name": f"bench-{n}"}})
        for i in range(pods):
            store.create(rt("pods"), {
                "metadata": {"name": f"pod-{i:05d}", "labels": {"app": f"app-{i % 50}"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}},
                namespace=f"bench-{i % NAMESPACES}")
        server = KubeApiServer(store, clock, TOKEN)
        url = await server.start()
        (directory / "ca.crt").write_bytes(server.ca_pem)
        tmp = directory / "kubeconfig.tmp"
        tmp.write_text(_kubeconfig(url, server.ca_pem))
        tmp.rename(directory / "kubeconfig")
        (directory / "url").write_text(url)
        await asyncio.Event().wait()

    asyncio.run(main())


def _get(ctx: ssl.SSLContext, url: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}",
                                                   "Accept": "application/json"})
    with urllib.request.urlopen(request, context=ctx) as response:
        return json.loads(response.read())


def run(pods: int = 5000, runs: int = 3) -> dict:
    directory = Path(tempfile.mkdtemp(prefix="iagent-bench-lists-"))
    proc = serve_bare_api("bench.lists", directory, str(pods))
    try:
        base = (directory / "url").read_text()
        ctx = ssl.create_default_context(cafile=str(directory / "ca.crt"))
        pages = []

        def whole() -> None:
            assert len(_get(ctx, f"{base}/api/v1/pods")["items"]) == pods

        def paged() -> None:
            token, seen, count = "", 0, 0
            while True:
                body = _get(ctx, f"{base}/api/v1/pods?limit=500" + (f"&continue={token}" if token else ""))
                seen += len(body["items"])
                count += 1
                token = body["metadata"].get("continue", "")
                if not token:
                    break
            assert seen == pods, seen
            pages.append(count)

        def kubectl() -> None:
            out = subprocess.run(["kubectl", "--kubeconfig", str(directory / "kubeconfig"), "get",
                                  "pods", "-A", "-o", "json"], capture_output=True, check=True)
            assert len(json.loads(out.stdout)["items"]) == pods

        result = {"unpaginated": timed(whole, runs), "pages_of_500": timed(paged, runs)}
        if shutil.which("kubectl"):
            result["kubectl_get_pods_A_json"] = timed(kubectl, runs)
    finally:
        proc.kill()
        proc.wait()
    print(f"lists of {pods} bare pods ({runs} runs each, medians; bare API server in its own process):")
    for name, (median, times) in result.items():
        extra = f", {pages[0]} pages, {median / pages[0]:.3f} s a page" if name == "pages_of_500" else ""
        print(f"  {name:26s} {median:6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times)}{extra})")
    return {name: median for name, (median, _) in result.items()}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        run(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
