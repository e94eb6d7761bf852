"""SPDY/3.1 framing, the server side of what kubectl's port-forward speaks (moby/spdystream).

kubectl >= 1.31 tunnels it through a WebSocket (subprotocol ``SPDY/3.1+portforward.k8s.io``):
the WebSocket's binary messages, concatenated, are the SPDY byte stream. Only what a
port-forward needs is understood: SYN_STREAM (answered with SYN_REPLY), DATA (with FIN),
RST_STREAM, PING (echoed) and GOAWAY; SETTINGS and WINDOW_UPDATE are read and ignored, as
spdystream does no flow control. Header blocks are zlib streams primed with the SPDY/3
dictionary of the protocol draft (section 2.6.10.1), one stream per direction per connection.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
VERSION = 3

_WORDS = ["options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
          "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
          "cache-control", "connection", "content-base", "content-encoding", "content-language",
          "content-length", "content-location", "content-md5", "content-range", "content-type",
          "date", "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since",
          "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
          "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range",
          "referer", "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade",
          "user-agent", "vary", "via", "warning", "www-authenticate", "method", "get", "status",
          "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"]
_TAIL = ("100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
         "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
         "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
         "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
         "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
         "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivate"
         "max-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
# The SPDY/3 header compression dictionary: each word with its 4-byte length, then the tail.
DICTIONARY = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()


class SpdyError(Exception):
    pass


@dataclass
class Frame:
    kind: str               # "control" or "data"
    type: int = 0           # control frame type
    flags: int = 0
    stream_id: int = 0
    payload: bytes = b""
    headers: dict[str, str] | None = None


class SpdyServer:
    """Parses client frames out of a byte stream and formats server frames."""

    def __init__(self) -> None:
        self._buffer = b""
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(9, zlib.DEFLATED, 15, zdict=DICTIONARY)

    # -- reading --------------------------------------------------------------------------------
    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames = []
        while len(self._buffer) >= 8:
            length = int.from_bytes(self._buffer[5:8], "big")
            if len(self._buffer) < 8 + length:
                break
            head, payload = self._buffer[:8], self._buffer[8:8 + length]
            self._buffer = self._buffer[8 + length:]
            frames.append(self._parse(head, payload))
        return frames

    def _parse(self, head: bytes, payload: bytes) -> Frame:
        flags = head[4]
        if head[0] & 0x80:
            version = int.from_bytes(head[0:2], "big") & 0x7FFF
            if version != VERSION:
                raise SpdyError(f"unsupported SPDY version {version}")
            ftype = int.from_bytes(head[2:4], "big")
            frame = Frame("control", ftype, flags, payload=payload)
            if ftype in (SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE):
                frame.stream_id = int.from_bytes(payload[0:4], "big") & 0x7FFFFFFF
            if ftype == SYN_STREAM:
                frame.headers = self._headers(payload[10:])
            elif ftype in (SYN_REPLY, HEADERS):
                frame.headers = self._headers(payload[4:])
            return frame
        return Frame("data", 0, flags, int.from_bytes(head[0:4], "big") & 0x7FFFFFFF, payload)

    def _headers(self, block: bytes) -> dict[str, str]:
        raw = self._inflate.decompress(block)
        count, pos, headers = struct.unpack(">I", raw[:4])[0], 4, {}
        for _ in range(count):
            n = struct.unpack(">I", raw[pos:pos + 4])[0]
            name = raw[pos + 4:pos + 4 + n].decode()
            pos += 4 + n
            v = struct.unpack(">I", raw[pos:pos + 4])[0]
            headers[name] = raw[pos + 4:pos + 4 + v].decode()
            pos += 4 + v
        return headers

    # -- writing --------------------------------------------------------------------------------
    @staticmethod
    def _control(ftype: int, flags: int, payload: bytes) -> bytes:
        return struct.pack(">HHB", 0x8000 | VERSION, ftype, flags) + len(payload).to_bytes(3, "big") + payload

    def syn_reply(self, stream_id: int, headers: dict[str, str] | None = None) -> bytes:
        items = sorted((headers or {}).items())
        raw = struct.pack(">I", len(items)) + b"".join(
            struct.pack(">I", len(k)) + k.encode() + struct.pack(">I", len(v)) + v.encode()
            for k, v in items)
        block = self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)
        return self._control(SYN_REPLY, 0, struct.pack(">I", stream_id) + block)

    @staticmethod
    def data(stream_id: int, payload: bytes, fin: bool = False) -> bytes:
        out = b""
        for start in range(0, max(len(payload), 1), 0xFFFFFF):
            chunk = payload[start:start + 0xFFFFFF]
            last = start + 0xFFFFFF >= len(payload)
            out += struct.pack(">IB", stream_id, FLAG_FIN if fin and last else 0) \
                + len(chunk).to_bytes(3, "big") + chunk
        return out

    def ping(self, payload: bytes) -> bytes:
        return self._control(PING, 0, payload)

    def goaway(self, last_stream: int) -> bytes:
        return self._control(GOAWAY, 0, struct.pack(">II", last_stream, 0))
