"""What a process in a simulated container sees of the cluster: its environment, /etc/resolv.conf,
/etc/hosts and the answers of cluster DNS.

The environment is the kubelet's: the container's ``env`` (values and the fieldRef, configMapKeyRef
and secretKeyRef sources), ``envFrom``, the Docker-links style variables of every Service in the
namespace (``enableServiceLinks``, true by default) plus the ``kubernetes`` Service's, HOSTNAME,
and the image's PATH and HOME. DNS is ClusterFirst on EKS: the kube-dns Service's ClusterIP as
nameserver, ``<ns>.svc.cluster.local svc.cluster.local cluster.local <region>.compute.internal``
as search path, ``ndots:5``; a name resolves only while a CoreDNS pod is ready.
"""

from __future__ import annotations

import base64
import re

from .resources import rt

CLUSTER_DOMAIN = "cluster.local"
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_REGION = re.compile(r"\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.compute\.internal$")


def _svc_env_name(name: str) -> str:
    return name.upper().replace("-", "_")


def _service_env(svc: dict) -> dict[str, str]:
    spec = svc.get("spec") or {}
    ip = spec.get("clusterIP")
    ports = spec.get("ports") or []
    if not ip or ip == "None" or not ports:
        return {}
    prefix = _svc_env_name(svc["metadata"]["name"])
    first = ports[0]
    env = {f"{prefix}_SERVICE_HOST": ip, f"{prefix}_SERVICE_PORT": str(first.get("port"))}
    for port in ports:
        proto = (port.get("protocol") or "TCP").upper()
        number = port.get("port")
        if port.get("name"):
            env[f"{prefix}_SERVICE_PORT_{_svc_env_name(port['name'])}"] = str(number)
        base = f"{prefix}_PORT_{number}_{proto}"
        env.update({base: f"{proto.lower()}://{ip}:{number}", f"{base}_PROTO": proto.lower(),
                    f"{base}_PORT": str(number), f"{base}_ADDR": ip})
    env[f"{prefix}_PORT"] = f"{(first.get('protocol') or 'TCP').lower()}://{ip}:{first.get('port')}"
    return env


def _field_ref(pod: dict, path: str) -> str:
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    simple = {"metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace"),
              "metadata.uid": meta.get("uid"), "spec.nodeName": spec.get("nodeName"),
              "spec.serviceAccountName": spec.get("serviceAccountName"),
              "status.podIP": status.get("podIP"), "status.hostIP": status.get("hostIP")}
    if path in simple:
        return str(simple[path] or "")
    match = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    return ""


def _from_source(store, ns: str, kind: str, name: str, key: str | None) -> dict[str, str]:
    obj = store.get(rt(kind), ns, name) if name else None
    if obj is None:
        return {}
    if kind == "secrets":
        data = {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in (obj.get("data") or {}).items()}
        data.update(obj.get("stringData") or {})
    else:
        data = dict(obj.get("data") or {})
    return {key: data[key]} if key is not None and key in data else ({} if key else data)


def container_env(store, pod: dict, container: dict) -> dict[str, str]:
    ns = pod["metadata"]["namespace"]
    env: dict[str, str] = {"PATH": IMAGE_PATH, "HOSTNAME": hostname(pod)}
    if (pod.get("spec") or {}).get("enableServiceLinks", True):
        services, _ = store.list(rt("services"), ns)
        for svc in sorted(services, key=lambda s: s["metadata"]["name"]):
            env.update(_service_env(svc))
    kubernetes = store.get(rt("services"), "default", "kubernetes")
    if kubernetes is not None:
        env.update(_service_env(kubernetes))
        ip = (kubernetes.get("spec") or {}).get("clusterIP")
        env.update({"KUBERNETES_SERVICE_HOST": ip, "KUBERNETES_SERVICE_PORT": "443",
                    "KUBERNETES_SERVICE_PORT_HTTPS": "443"})
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, field in (("configmaps", "configMapRef"), ("secrets", "secretRef")):
            ref = source.get(field)
            if ref:
                env.update({prefix + k: v for k, v in
                            _from_source(store, ns, kind, ref.get("name", ""), None).items()})
    for var in container.get("env") or []:
        name = var.get("name")
        if not name:
            continue
        if "value" in var:
            env[name] = _expand(str(var["value"]), env)
            continue
        source = var.get("valueFrom") or {}
        if "fieldRef" in source:
            env[name] = _field_ref(pod, source["fieldRef"].get("fieldPath", ""))
        for kind, field in (("configmaps", "configMapKeyRef"), ("secrets", "secretKeyRef")):
            ref = source.get(field)
            if ref:
                got = _from_source(store, ns, kind, ref.get("name", ""), ref.get("key"))
                if ref.get("key") in got:
                    env[name] = got[ref["key"]]
    env.setdefault("HOME", "/root")
    return env


def _expand(value: str, env: dict[str, str]) -> str:
    """$(VAR) references to variables defined before, as the kubelet expands them."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), value)


def hostname(pod: dict) -> str:
    spec = pod.get("spec") or {}
    return spec.get("hostname") or pod["metadata"]["name"][:63]


def region(store, pod: dict) -> str:
    """The node's region, for the compute.internal search domain (from the node's name)."""
    node = (pod.get("spec") or {}).get("nodeName") or ""
    match = _REGION.search(node)
    if match:
        return match.group(1)
    for n in store.list(rt("nodes"), None)[0]:
        r = (n["metadata"].get("labels") or {}).get("topology.kubernetes.io/region")
        if r:
            return r
    return "eu-central-1"


def dns_server(store) -> str:
    svc = store.get(rt("services"), "kube-system", "kube-dns")
    return ((svc or {}).get("spec") or {}).get("clusterIP") or "10.100.0.10"


def resolv_conf(store, pod: dict) -> str:
    ns = pod["metadata"]["namespace"]
    search = f"{ns}.svc.{CLUSTER_DOMAIN} svc.{CLUSTER_DOMAIN} {CLUSTER_DOMAIN} " \
             f"{region(store, pod)}.compute.internal"
    # containerd writes search, then nameserver, then options
    return f"search {search}\nnameserver {dns_server(store)}\noptions ndots:5\n"


def hosts_file(pod: dict) -> str:
    ip = (pod.get("status") or {}).get("podIP") or ""
    return ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
            "fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
            f"{ip}\t{hostname(pod)}\n")


def dns_ready(store) -> bool:
    """kube-dns answers only while at least one CoreDNS pod is ready (its endpoints)."""
    pods, _ = store.list(rt("pods"), "kube-system", label_selector="k8s-app=kube-dns")
    for pod in pods:
        for cond in (pod.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "Ready" and cond.get("status") == "True" \
                    and not pod["metadata"].get("deletionTimestamp"):
                return True
    return False


def resolve(store, pod: dict, name: str) -> tuple[str, list[str]] | None:
    """(FQDN, addresses) for a name as the pod's resolver finds it: through the search path when
    it has fewer than five dots, as given otherwise; None for NXDOMAIN everywhere."""
    name = name.rstrip(".")
    ns = pod["metadata"]["namespace"]
    candidates = [name] if name.count(".") >= 5 else []
    candidates += [f"{name}.{suffix}" for suffix in
                   (f"{ns}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN)]
    if name.count(".") < 5:
        candidates.append(name)
    for fqdn in candidates:
        addresses = _lookup(store, fqdn)
        if addresses:
            return fqdn, addresses
    return None


def _lookup(store, fqdn: str) -> list[str]:
    suffix = f".svc.{CLUSTER_DOMAIN}"
    if not fqdn.endswith(suffix):
        return []
    parts = fqdn[: -len(suffix)].split(".")
    if len(parts) == 2:
        svc = store.get(rt("services"), parts[1], parts[0])
        if svc is None:
            return []
        ip = (svc.get("spec") or {}).get("clusterIP")
        if ip and ip != "None":
            return [ip]
        return _headless_addresses(store, svc)
    return []


def _headless_addresses(store, svc: dict) -> list[str]:
    ep = store.get(rt("endpoints"), svc["metadata"]["namespace"], svc["metadata"]["name"])
    return sorted({a.get("ip") for subset in (ep or {}).get("subsets") or []
                   for a in subset.get("addresses") or [] if a.get("ip")})
