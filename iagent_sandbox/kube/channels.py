"""The WebSocket channel protocols of exec, attach and port-forward (apimachinery's wsstream).

Every binary message starts with a channel byte; the rest is that channel's data. The
``base64.`` variants send text messages whose first character is the channel as an ASCII digit
and whose rest is base64. ``v5.channel.k8s.io`` (kubectl >= 1.30) adds the CLOSE signal: a
message ``[255, channel]`` half-closes that channel (stdin's end of file). With no subprotocol
the server speaks ``channel.k8s.io``, as the kubelet does.
"""

from __future__ import annotations

import asyncio
import base64

from aiohttp import WSMsgType, web

from .errors import method_not_allowed, not_found

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
V4_BASE64 = "v4.base64.channel.k8s.io"
V1 = "channel.k8s.io"
V1_BASE64 = "base64.channel.k8s.io"
STREAM_CLOSE = 255
# What the kubelet accepts for exec/attach, best first; port-forward has no v5.
EXEC_PROTOCOLS = (V5, V4, V4_BASE64, V1, V1_BASE64)
PORT_FORWARD_PROTOCOLS = (V4, V4_BASE64, V1, V1_BASE64)


def stream_target(store, request: web.Request, target) -> dict:
    """The pod a pods/exec, attach or portforward request names (GET or POST, as the API server
    takes them), or the error the API server answers."""
    if request.method not in ("GET", "POST"):
        raise method_not_allowed()
    pod = store.get(target.rt, target.namespace, target.name)
    if pod is None:
        raise not_found(target.rt, target.name)
    return pod


def requested_protocols(request: web.Request) -> list[str]:
    raw = ",".join(request.headers.getall("Sec-WebSocket-Protocol", []))
    return [p.strip() for p in raw.split(",") if p.strip()]


def is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


class ChannelSocket:
    """One upgraded connection: writes per channel, incoming data demultiplexed into queues
    (``None`` in a queue is that channel's end of file)."""

    def __init__(self, ws: web.WebSocketResponse, protocol: str, channels: int) -> None:
        self.ws = ws
        self.protocol = protocol
        self.base64 = protocol.endswith(V1_BASE64)
        self.supports_close = protocol == V5
        self.inbox: list[asyncio.Queue] = [asyncio.Queue() for _ in range(channels)]
        self._write_lock = asyncio.Lock()
        self._reader: asyncio.Task | None = None

    @classmethod
    async def accept(cls, request: web.Request, offered: tuple[str, ...],
                     channels: int) -> "ChannelSocket":
        wanted = requested_protocols(request)
        chosen = next((p for p in wanted if p in offered), None)
        if wanted and chosen is None:
            from .errors import bad_request
            raise bad_request(f"requested protocol(s) are not supported: {wanted}; "
                              f"supports {list(offered)}")
        ws = web.WebSocketResponse(protocols=[chosen] if chosen else (), autoping=True,
                                   max_msg_size=0)
        await ws.prepare(request)
        sock = cls(ws, chosen or "", channels)
        sock._reader = asyncio.ensure_future(sock._read_loop())
        return sock

    async def _read_loop(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type == WSMsgType.BINARY:
                    data = bytes(msg.data)
                elif msg.type == WSMsgType.TEXT and self.base64:
                    text = msg.data
                    if not text:
                        continue
                    data = bytes([ord(text[0]) - ord("0")]) + base64.b64decode(text[1:])
                elif msg.type == WSMsgType.TEXT:
                    # The sync Python client sends str data as text frames; the kubelet reads any
                    # frame as bytes, channel byte first.
                    data = msg.data.encode()
                else:
                    continue
                if not data:
                    continue
                if self.supports_close and data[0] == STREAM_CLOSE:
                    if len(data) == 2 and data[1] < len(self.inbox):
                        self.inbox[data[1]].put_nowait(None)
                    continue
                if data[0] < len(self.inbox):
                    self.inbox[data[0]].put_nowait(data[1:])
        finally:
            for queue in self.inbox:  # the client went away: every reader sees end of file
                queue.put_nowait(None)

    async def write(self, channel: int, data: bytes) -> None:
        if self.ws.closed:
            return
        async with self._write_lock:
            try:
                if self.base64:
                    await self.ws.send_str(chr(ord("0") + channel) + base64.b64encode(data).decode())
                else:
                    await self.ws.send_bytes(bytes([channel]) + data)
            except ConnectionResetError:
                pass

    async def close(self) -> None:
        if not self.ws.closed:
            try:
                await self.ws.close()  # 1000, normal closure: the client's readers see EOF
            except ConnectionResetError:
                pass
        if self._reader is not None:
            self._reader.cancel()

    async def wait_gone(self, timeout: float) -> bool:
        """Whether the client left within ``timeout`` seconds."""
        if self._reader is None:
            return True
        await asyncio.wait({self._reader}, timeout=timeout)
        return self._reader.done()

    @property
    def closed(self) -> bool:
        return self.ws.closed
