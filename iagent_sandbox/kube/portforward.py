"""pods/portforward: TCP to a simulated pod's port, over the two WebSocket forms clients use.

- ``SPDY/3.1+portforward.k8s.io`` (kubectl >= 1.31): SPDY tunnelled in WebSocket messages. Per
  local connection kubectl opens an error stream and a data stream (headers ``streamtype``,
  ``port``, ``requestid``); the data stream carries the bytes both ways, the error stream says
  why forwarding failed, and both are closed when the pod side closes.
- ``v4.channel.k8s.io`` and the older channel protocols (the Python clients): ``?ports=`` lists
  the ports; channel 2i carries port i's bytes and 2i+1 its errors, each opened by the port
  number as two little-endian bytes. One connection per port per WebSocket.

Nothing listening on the port gives containerd's "connection refused" message on the error
stream, as on a real node.
"""

from __future__ import annotations

import asyncio

from aiohttp import WSMsgType, web

from . import spdy
from .channels import (PORT_FORWARD_PROTOCOLS, ChannelSocket, is_websocket, requested_protocols,
                       stream_target)
from .errors import bad_request
from .pod_http import PodHttpConnection, refused_message
from .resources import rt
from .sources import AppSource

TUNNEL_PREFIX = "SPDY/3.1+"
PORT_FORWARD_V1 = "portforward.k8s.io"


def _ports(request: web.Request) -> list[int]:
    ports = []
    for value in request.query.getall("ports", []):
        for part in value.split(","):
            try:
                port = int(part)
            except ValueError:
                raise bad_request(f'invalid port "{part}": must be an integer') from None
            if not 0 < port < 65536:
                raise bad_request(f"port {port} must be between 1 and 65535, inclusive")
            ports.append(port)
    return ports


class PodPortForward:
    def __init__(self, store, clock, apps: AppSource | None) -> None:
        self.store = store
        self.clock = clock
        self.apps = apps

    async def handle(self, request: web.Request, target) -> web.StreamResponse:
        pod = stream_target(self.store, request, target)
        if not (pod.get("spec") or {}).get("nodeName"):
            raise bad_request(f"pod {target.name} does not have a host assigned")
        if not is_websocket(request):
            raise bad_request("Upgrade request required: the sandbox serves port-forward over "
                              "WebSocket (SPDY/3.1+portforward.k8s.io, v4.channel.k8s.io)")
        tunnel = f"{TUNNEL_PREFIX}{PORT_FORWARD_V1}"
        if tunnel in requested_protocols(request):
            return await self._tunnel(request, target, tunnel)
        ports = _ports(request)
        if not ports:
            raise bad_request('query parameter "port" is required')
        return await self._channels(request, target, ports)

    def _connect(self, ns: str, name: str, port: int) -> PodHttpConnection | str:
        pod = self.store.get(rt("pods"), ns, name)
        if pod is None:
            return f"pod {ns}/{name} not found"
        if self.apps is None or not self.apps.listens(pod, port):
            return refused_message(pod, port)
        return PodHttpConnection(self.apps, pod, port, self.clock)

    # -- v4.channel.k8s.io ------------------------------------------------------------------------
    async def _channels(self, request: web.Request, target, ports: list[int]) -> web.StreamResponse:
        sock = await ChannelSocket.accept(request, PORT_FORWARD_PROTOCOLS, 2 * len(ports))
        try:
            for i, port in enumerate(ports):
                number = port.to_bytes(2, "little")
                await sock.write(2 * i, number)
                await sock.write(2 * i + 1, number)
            await asyncio.gather(*(self._forward_channel(sock, target, i, port)
                                   for i, port in enumerate(ports)))
        finally:
            await sock.close()
        return sock.ws

    async def _forward_channel(self, sock: ChannelSocket, target, i: int, port: int) -> None:
        conn = self._connect(target.namespace, target.name, port)
        if isinstance(conn, str):
            await sock.write(2 * i + 1, conn.encode())
            return
        while not conn.closed:
            data = await sock.inbox[2 * i].get()
            if data is None:
                return
            answer = conn.feed(data)
            if answer:
                await sock.write(2 * i, answer)

    # -- SPDY tunnelled in WebSocket --------------------------------------------------------------
    async def _tunnel(self, request: web.Request, target, protocol: str) -> web.StreamResponse:
        ws = web.WebSocketResponse(protocols=[protocol], autoping=True, max_msg_size=0)
        await ws.prepare(request)
        session = spdy.SpdyServer()
        streams: dict[int, dict] = {}              # stream id -> its headers
        pairs: dict[str, dict[str, int]] = {}      # requestid -> {"error": id, "data": id}
        conns: dict[int, PodHttpConnection] = {}   # data stream id -> the pod connection

        async def send(data: bytes) -> None:
            if not ws.closed:
                await ws.send_bytes(data)

        async def finish(pair: dict[str, int], error: str = "") -> None:
            if error:
                await send(session.data(pair["error"], error.encode()))
            await send(session.data(pair["data"], b"", fin=True))
            await send(session.data(pair["error"], b"", fin=True))
            conns.pop(pair["data"], None)

        try:
            async for msg in ws:
                if msg.type != WSMsgType.BINARY:
                    continue
                for frame in session.feed(bytes(msg.data)):
                    if frame.kind == "control":
                        if frame.type == spdy.SYN_STREAM:
                            await send(session.syn_reply(frame.stream_id))
                            headers = frame.headers or {}
                            streams[frame.stream_id] = headers
                            pair = pairs.setdefault(headers.get("requestid", ""), {})
                            pair[headers.get("streamtype", "")] = frame.stream_id
                            if "data" in pair and "error" in pair and pair["data"] == frame.stream_id:
                                await self._open(pair, headers, target, conns, finish)
                        elif frame.type == spdy.PING:
                            await send(session.ping(frame.payload))
                        elif frame.type == spdy.RST_STREAM:
                            conns.pop(frame.stream_id, None)
                        elif frame.type == spdy.GOAWAY:
                            return ws
                        continue
                    conn = conns.get(frame.stream_id)
                    if conn is None:
                        continue
                    pair = pairs[streams[frame.stream_id].get("requestid", "")]
                    if frame.payload:
                        answer = conn.feed(frame.payload)
                        if answer:
                            await send(session.data(frame.stream_id, answer))
                    if conn.closed or frame.flags & spdy.FLAG_FIN:
                        # the pod's server closes once it answered, or once the client is done
                        await finish(pair)
        except spdy.SpdyError:
            pass
        finally:
            await ws.close()
        return ws

    async def _open(self, pair: dict[str, int], headers: dict[str, str], target, conns, finish) -> None:
        try:
            port = int(headers.get("port", ""))
        except ValueError:
            await finish(pair, f'invalid port "{headers.get("port")}": must be an integer')
            return
        conn = self._connect(target.namespace, target.name, port)
        if isinstance(conn, str):
            await finish(pair, conn)
            return
        conns[pair["data"]] = conn
