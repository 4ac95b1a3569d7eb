#!/usr/bin/env python3
"""Writes the seed corpus of both fuzz targets (corpus/<target>/seed-*).

The input layout is the one fuzz/src/lib.rs decodes: a flags byte, a count
byte, that many little-endian u16 split offsets, then the stream. Run from
the fuzz/ folder; existing seeds of the same name are overwritten, inputs
the fuzzer added are left alone.
"""
import os
import struct


def encode(flags, splits, stream):
    out = bytes([flags, len(splits)])
    for s in splits:
        out += struct.pack("<H", s)
    return out + stream


def write(target, name, data):
    d = os.path.join("corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# --- http_driver: flags bits 0-2 server (0 epoll/compact, 1 epoll/streaming,
# 2 epoll/nobody, 3 portable/compact, 4 portable/streaming, 5 portable/nobody),
# bit 3 pause between pieces.
def get(path=b"/", extra=b"", version=b"1.1"):
    return b"GET " + path + b" HTTP/" + version + b"\r\nHost: f\r\n" + extra + b"\r\n"


def post(path, body, extra=b""):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: f\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def chunked(path, pieces, trailer=b""):
    body = b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in pieces) + b"0\r\n" + trailer + b"\r\n"
    return b"POST " + path + b" HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\n\r\n" + body


H = "http_driver"
for srv in range(6):
    write(H, f"get-{srv}", encode(srv, [], get()))
    write(H, f"shapes-{srv}", encode(srv | 8, [5, 40, 90], b"".join(
        get(p) for p in [b"/c", b"/s", b"/n", b"/m", b"/q", b"/u"])))
for srv in (0, 1, 3, 4):
    write(H, f"post-{srv}", encode(srv | 8, [20, 47], post(b"/c", b"say=hello+world")))
    write(H, f"chunked-{srv}", encode(srv, [60], chunked(b"/s", [b"abc", b"defgh" * 5])))
write(H, "chunk-ext-trailer", encode(1, [], chunked(b"/", [b"x" * 20], b"X-T: 1\r\n").replace(b"14\r\n", b"14;ext=1\r\n")))
write(H, "post-too-big", encode(0, [], post(b"/", b"z" * 400)))
write(H, "post-too-big-stream", encode(1, [30], post(b"/", b"z" * 400)))
write(H, "answer-before-body", encode(4 | 8, [70], post(b"/p", b"q" * 250) + get()))
write(H, "head-too-long", encode(3, [], get(b"/", b"X-Fuzz: " + b"v" * 260 + b"\r\n")))
write(H, "uri-too-long", encode(2, [], get(b"/" + b"u" * 100)))
write(H, "too-many-headers", encode(0, [], get(b"/", b"".join(b"A%d: x\r\n" % i for i in range(10)))))
write(H, "http10", encode(5, [], get(b"/", b"", b"1.0") + get(b"/c", b"Connection: keep-alive\r\n", b"1.0") + get(b"/c", b"", b"1.0")))
write(H, "head", encode(0, [], b"HEAD / HTTP/1.1\r\nHost: f\r\n\r\nHEAD /c HTTP/1.1\r\nHost: f\r\n\r\nHEAD /s HTTP/1.1\r\n\r\n" + get()))
write(H, "expect", encode(1, [], post(b"/", b"12345", b"Expect: 100-continue\r\n")))
write(H, "garbage", encode(0, [], b"GARBAGE\r\n\r\n"))
write(H, "bare-lf", encode(2, [], b"GET / HTTP/1.1\nHost: f\n\n" + get()))
write(H, "obs-fold", encode(0, [], b"GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"))
write(H, "cl-and-te", encode(3, [], b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
write(H, "double-cl", encode(0, [], b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"))
write(H, "bad-chunk", encode(4, [], b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"))
write(H, "close-then-more", encode(0, [], get(b"/", b"Connection: close\r\n") + get()))
write(H, "close-socket", encode(3, [], get(b"/x") + get() + get(b"/k") + get()))
write(H, "big-reply", encode(2, [], get(b"/b") + get(b"/b") + get()))
write(H, "pipelined-50", encode(0 | 8, [700], get() * 50 + post(b"/", b"p" * 200)))
# Deep pipelining: 3.3 KB of requests in one write, most of a read buffer.
write(H, "pipelined-deep", encode(2, [], get() * 120 + get(b"/c")))
write(H, "upgrade", encode(2, [], get(b"/", b"Upgrade: websocket\r\nConnection: Upgrade\r\n")))
write(H, "body-on-nobody", encode(5, [], post(b"/", b"abc") + get()))
write(H, "empty-lines", encode(0, [], b"\r\n\r\n" + get()))

# --- ws_driver: flags bits 0-1 server (0 epoll, 1 portable, 2 epoll with
# pings), bit 2 pause, bit 3 raw (no upgrade request in front).
def op(opcode, payload=b"", fin=True, rsv=0, masked=True, enc=0, length=None):
    n = len(payload) if length is None else length
    tag = (0x40 if fin else 0) | (rsv << 4) | (0 if masked else 0x08) | enc
    return bytes([tag, opcode]) + struct.pack("<H", n) + payload


def raw(b):
    out = b""
    while b:
        out += bytes([0x80 | min(len(b), 127)]) + b[:127]
        b = b[127:]
    return out


def close(code, reason=b""):
    return op(8, struct.pack(">H", code) + reason)


W = "ws_driver"
UPGRADE = (b"GET /chat HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
for srv in range(3):
    write(W, f"text-{srv}", encode(srv, [], op(1, b"hello") + close(1000)))
    write(W, f"fragments-{srv}", encode(srv | 4, [150, 160], op(1, b"hel", fin=False) + op(9, b"p") + op(0, b"lo") + close(1000, b"bye")))
write(W, "binary", encode(0, [], op(2, bytes(range(200)))))
write(W, "ping-pong", encode(1, [], op(9, b"ping") + op(10, b"unsolicited") + op(1, b"x")))
write(W, "unmasked", encode(0, [], op(1, b"hi", masked=False)))
write(W, "rsv", encode(1, [], op(1, b"hi", rsv=1)))
write(W, "rsv2", encode(0, [], op(2, b"hi", rsv=2)))
write(W, "opcode-3", encode(0, [], op(3, b"x")))
write(W, "opcode-b", encode(1, [], op(11, b"x")))
write(W, "bad-utf8", encode(0, [], op(1, b"\xff\xfe")))
write(W, "utf8-split", encode(1, [], op(1, "é€".encode()[:3], fin=False) + op(0, "é€".encode()[3:])))
write(W, "utf8-split-bad", encode(0, [], op(1, b"\xe2\x82", fin=False) + op(0, b"x")))
write(W, "too-big", encode(0, [], op(2, length=1200)))
write(W, "too-big-fragments", encode(1, [], op(2, length=600, fin=False) + op(0, length=600)))
write(W, "ping-fragmented", encode(0, [], op(9, b"x", fin=False)))
write(W, "ping-too-long", encode(1, [], op(9, length=126)))
write(W, "continuation-first", encode(0, [], op(0, b"x")))
write(W, "new-message-mid-fragment", encode(1, [], op(1, b"a", fin=False) + op(1, b"b")))
write(W, "len-16", encode(0, [], op(1, b"short", enc=1)))
write(W, "len-64", encode(1, [], op(2, b"short", enc=2)))
write(W, "announce-more", encode(0, [], op(1, b"abc", enc=3)))
write(W, "announce-less", encode(1, [], op(1, b"abc", enc=4) + op(1, b"x")))
write(W, "close-bad-code", encode(0, [], close(999)))
write(W, "close-1005", encode(1, [], close(1005)))
write(W, "close-one-byte", encode(0, [], op(8, b"\x03")))
write(W, "close-bad-reason", encode(1, [], close(1000, b"\xff")))
write(W, "close-then-text", encode(0, [], close(4000, b"ok") + op(1, b"late")))
write(W, "ask-close", encode(0, [], op(1, b"!close") + op(1, b"after")))
write(W, "ask-ping", encode(2 | 4, [180], op(1, b"!ping") + op(1, b"x")))
write(W, "raw-garbage", encode(0, [], raw(b"\x81\x05hello")))
write(W, "handshake-split", encode(1 | 4, [10, 50, 100], op(1, b"hi")))
write(W, "raw-bad-version", encode(8, [], raw(UPGRADE.replace(b": 13", b": 8"))))
write(W, "raw-no-key", encode(9, [], raw(UPGRADE.replace(b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", b""))))
write(W, "raw-upgrade-and-frame", encode(8 | 4, [40], raw(UPGRADE) + op(1, b"raw")))
write(W, "raw-post", encode(8, [], raw(b"POST /chat HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")))
