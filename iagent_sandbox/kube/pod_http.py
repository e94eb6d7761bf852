"""A TCP connection to a simulated pod's HTTP server, byte for byte: what a port-forward carries.

Requests are parsed as HTTP/1.x (request line, headers, Content-Length body) and answered by the
pod's AppSource, with keep-alive as HTTP/1.1 servers do; ``Connection: close`` or HTTP/1.0 ends
the connection after the answer.
"""

from __future__ import annotations

import hashlib
from email.utils import format_datetime

from .container import _REASONS
from .sources import AppSource

MAX_HEAD = 64 * 1024


def refused_message(pod: dict, port: int) -> str:
    """containerd's error when nothing in the pod listens on the port."""
    uid = pod["metadata"].get("uid", "")
    sandbox = hashlib.sha256(f"sandbox:{uid}".encode()).hexdigest()
    h = hashlib.sha256(f"netns:{uid}".encode()).hexdigest()
    netns = f"/var/run/netns/cni-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    return (f"error forwarding port {port} to pod {sandbox}, uid : failed to execute portforward "
            f'in network namespace "{netns}": failed to connect to localhost:{port} inside namespace '
            f'"{sandbox}", IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused IPv6 '
            f"dial tcp6 [::1]:{port}: connect: connection refused ")


class PodHttpConnection:
    def __init__(self, apps: AppSource, pod: dict, port: int, clock) -> None:
        self.apps = apps
        self.pod = pod
        self.port = port
        self.clock = clock
        self.closed = False
        self._buffer = b""

    def feed(self, data: bytes) -> bytes:
        """The bytes the server sends back after receiving ``data``."""
        self._buffer += data
        out = b""
        while not self.closed:
            head_end = self._buffer.find(b"\r\n\r\n")
            if head_end < 0:
                if len(self._buffer) > MAX_HEAD:
                    out += self._answer(431, "text/plain", b"", {}, close=True)
                break
            head = self._buffer[:head_end].decode("latin-1")
            lines = head.split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                out += self._answer(400, "text/html", b"<html><body>400 Bad Request</body></html>\n",
                                    {}, close=True)
                break
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            if len(self._buffer) < head_end + 4 + length:
                break
            self._buffer = self._buffer[head_end + 4 + length:]
            method, path, version = parts
            close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
            status, ctype, body, extra = self.apps.http(self.pod, self.port, method, path)
            out += self._answer(status, ctype, body, extra, close, head_only=method == "HEAD")
        return out

    def _answer(self, status: int, ctype: str, body: bytes, extra: dict[str, str], close: bool,
                head_only: bool = False) -> bytes:
        self.closed = self.closed or close
        headers = {**extra, "Date": format_datetime(self.clock.now(), usegmt=True),
                   "Content-Type": ctype, "Content-Length": str(len(body)),
                   "Connection": "close" if close else "keep-alive"}
        head = f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n" + \
            "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        return head.encode("latin-1") + (b"" if head_only else body)
