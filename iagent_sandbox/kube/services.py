"""Service cluster IP and node port allocation, as the API server's allocators do on create.

EKS's default service CIDR is 10.100.0.0/16 (the kubernetes service is 10.100.0.1, kube-dns
10.100.0.10); node ports come from 30000-32767. Allocation is random but seeded, so a sandbox run
is repeatable.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Iterable

from . import errors
from .errors import FieldError
from .resources import ResourceType

SERVICE_CIDR = ipaddress.ip_network("10.100.0.0/16")
NODE_PORT_RANGE = (30000, 32767)


class ServiceAllocator:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def rng_state(self) -> object:
        return self._rng.getstate()

    def set_rng_state(self, state: object) -> None:
        self._rng.setstate(state)

    def allocate(self, rt: ResourceType, svc: dict, existing: Iterable[dict]) -> None:
        spec = svc["spec"]
        if spec.get("type") == "ExternalName":
            return
        existing = list(existing)
        used_ips = {s["spec"].get("clusterIP") for s in existing}
        used_ports = {p.get("nodePort") for s in existing for p in s["spec"].get("ports") or []}
        name = svc["metadata"]["name"]
        ip = spec.get("clusterIP")
        if ip in (None, ""):
            ip = self._free_ip(used_ips)
        elif ip != "None":
            self._check_requested_ip(rt, name, ip, used_ips)
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            for i, port in enumerate(spec.get("ports") or []):
                wanted = port.get("nodePort")
                if wanted:
                    if wanted in used_ports:
                        raise errors.invalid(rt, name, [FieldError(
                            "FieldValueInvalid", f"spec.ports[{i}].nodePort",
                            f"Invalid value: {wanted}: provided port is already allocated")])
                else:
                    wanted = self._free_port(used_ports)
                port["nodePort"] = wanted
                used_ports.add(wanted)

    def _check_requested_ip(self, rt: ResourceType, name: str, ip: str, used: set) -> None:
        def fail(detail: str) -> errors.ApiError:
            return errors.invalid(rt, name, [FieldError(
                "FieldValueInvalid", "spec.clusterIPs",
                f'Invalid value: []string{{"{ip}"}}: {detail}')])

        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            raise fail("must be a valid IP address") from None
        if addr not in SERVICE_CIDR:
            raise fail(f"failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid "
                       f"range. The range of valid IPs is {SERVICE_CIDR}")
        if ip in used:
            raise fail(f"failed to allocate IP {ip}: provided IP is already allocated")

    def _free_ip(self, used: set) -> str:
        size = SERVICE_CIDR.num_addresses
        while True:
            # .0 is the network, .1 the kubernetes service and .10 kube-dns by convention
            ip = str(SERVICE_CIDR.network_address + self._rng.randrange(11, size - 1))
            if ip not in used:
                return ip

    def _free_port(self, used: set) -> int:
        while True:
            port = self._rng.randint(*NODE_PORT_RANGE)
            if port not in used:
                return port

    @staticmethod
    def carry_over(cur: dict, new: dict) -> None:
        """An update may omit allocated values; keep them, as the service registry does."""
        old_spec, spec = cur.get("spec") or {}, new["spec"]
        for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if field not in spec and field in old_spec:
                spec[field] = old_spec[field]
        old_ports = {(p.get("port"), p.get("protocol", "TCP")): p for p in old_spec.get("ports") or []}
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
            old = old_ports.get((port.get("port"), port["protocol"]))
            if old and "nodePort" in old and "nodePort" not in port and \
                    spec.get("type") in ("NodePort", "LoadBalancer"):
                port["nodePort"] = old["nodePort"]
