"""One simulated container instance as exec sees it: its files (seeded from the image and the
kubelet's mounts), its processes, and the network it reaches (its pod's own ports, Services by
their cluster DNS names). A restarted container is a new instance with fresh files."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from . import container_env as cenv
from .container_fs import ContainerFs
from .resources import rt
from .sources import AppSource

MAX_INSTANCES = 500  # containers whose files exec keeps in memory
# (status, reason, headers, body) of an HTTP exchange, None when nothing listens on the port.
HttpAnswer = tuple[int, str, dict[str, str], bytes]


def main_process(container: dict) -> str:
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    if words:
        return " ".join(words)
    image = container.get("image", "")
    if "nginx" in image:
        return "nginx: master process nginx -g daemon off;"
    if "coredns" in image:
        return "/coredns -conf /etc/coredns/Corefile"
    name = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0] or "app"
    return f"/usr/local/bin/{name}"


@dataclass
class ContainerInstance:
    pod: dict
    container: dict
    fs: ContainerFs
    next_pid: int = 7
    sessions: dict[int, str] = field(default_factory=dict)

    def new_pid(self) -> int:
        pid = self.next_pid
        self.next_pid += 6
        return pid


class Containers:
    """The instances exec has touched, keyed by pod uid, container name and restart count."""

    def __init__(self, store, clock, apps: AppSource | None) -> None:
        self.store = store
        self.clock = clock
        self.apps = apps
        self._instances: dict[tuple[str, str, int], ContainerInstance] = {}

    def instance(self, pod: dict, container: dict, restarts: int) -> ContainerInstance:
        key = (pod["metadata"].get("uid", ""), container["name"], restarts)
        inst = self._instances.get(key)
        if inst is None:
            inst = ContainerInstance(pod, container, self._image_fs(pod, container))
            # An earlier instance of the same container is gone for good (a restart starts
            # from the image); beyond MAX_INSTANCES the least recently created go too.
            for old in [k for k in self._instances if k[:2] == key[:2]]:
                del self._instances[old]
            while len(self._instances) >= MAX_INSTANCES:
                del self._instances[next(iter(self._instances))]
            self._instances[key] = inst
        inst.pod = pod
        return inst

    def _image_fs(self, pod: dict, container: dict) -> ContainerFs:
        fs = ContainerFs(mtime=self.clock.now().timestamp())
        for d in ("/bin", "/dev", "/etc", "/home", "/lib", "/proc", "/root", "/run", "/sbin",
                  "/sys", "/tmp", "/usr/bin", "/usr/local/bin", "/var/log", "/var/run"):
            fs.mkdirs(d)
        fs.write("/etc/hostname", (cenv.hostname(pod) + "\n").encode())
        fs.write("/etc/hosts", cenv.hosts_file(pod).encode())
        fs.write("/etc/resolv.conf", cenv.resolv_conf(self.store, pod).encode())
        fs.write("/etc/os-release", b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\n'
                                    b'PRETTY_NAME="Alpine Linux v3.20"\n')
        fs.write("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n")
        image = container.get("image", "")
        if "nginx" in image:
            fs.mkdirs("/usr/share/nginx/html")
            page = self.apps.http(pod, 80, "GET", "/")[3] if self.apps else b""
            fs.write("/usr/share/nginx/html/index.html", page)
        else:
            fs.mkdirs("/app")
        spec = pod.get("spec") or {}
        if spec.get("automountServiceAccountToken", True) is not False:
            sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount"
            fs.mkdirs(sa_dir)
            ns = pod["metadata"]["namespace"]
            sa = spec.get("serviceAccountName") or "default"
            fs.write(f"{sa_dir}/namespace", ns.encode())
            claims = {"iss": "https://oidc.eks.sandbox.local", "sub": f"system:serviceaccount:{ns}:{sa}"}
            # A projected token's shape, signed by nothing: it opens no door anywhere.
            token = ".".join(base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
                             for part in ({"alg": "none"}, claims)) + "."
            fs.write(f"{sa_dir}/token", token.encode())
        return fs

    # -- network -------------------------------------------------------------------------------
    def http_to_pod(self, pod: dict, port: int, method: str, path: str) -> HttpAnswer | None:
        if self.apps is None or not self.apps.listens(pod, port):
            return None
        status, ctype, body, headers = self.apps.http(pod, port, method, path)
        return status, _REASONS.get(status, ""), {"Content-Type": ctype, **headers}, body

    def service_backend(self, ns: str, name: str, port: int) -> tuple[dict, int] | None:
        """A ready pod behind Service ns/name and the container port its ``port`` maps to."""
        svc = self.store.get(rt("services"), ns, name)
        if svc is None:
            return None
        spec = svc.get("spec") or {}
        svc_port = next((p for p in spec.get("ports") or [] if p.get("port") == port), None)
        selector = spec.get("selector") or {}
        if svc_port is None or not selector:
            return None
        pods, _ = self.store.list(rt("pods"), ns, label_selector=",".join(f"{k}={v}" for k, v in sorted(selector.items())))
        ready = sorted((p for p in pods if _ready(p)), key=lambda p: p["metadata"]["name"])
        if not ready:
            return None
        target = svc_port.get("targetPort", port)
        return ready[0], resolve_port(ready[0], target)


def resolve_port(pod: dict, target) -> int:
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target:
                return int(p["containerPort"])
    return 0


def _ready(pod: dict) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified",
            400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}
