"""Checks the demo's /ws with websockets (Debian's python3-websockets, asyncio).

Usage: python3 websockets_check.py HOST:PORT

websockets offers permessage-deflate by default: the check asserts that the
server accepted it, then echoes text and binary messages up to 1 MiB, pings,
checks the subprotocol, sends "Trigger async" and waits for "Async data", and
closes with 1000, checking that the server's close frame echoes the code.
Prints one line per check and exits 0 only if every check passed.
"""

import asyncio
import os
import sys

import websockets


def check(cond, what):
    if not cond:
        print("FAIL", what, flush=True)
        sys.exit(1)
    print("ok  ", what, flush=True)


async def run(addr):
    async with websockets.connect(
        "ws://%s/ws" % addr,
        subprotocols=["chat"],
        max_size=16 << 20,
        open_timeout=30,
        close_timeout=30,
        ping_interval=None,
    ) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        check("permessage-deflate" in ext,
              "permessage-deflate negotiated (Sec-WebSocket-Extensions: %r)" % ext)
        check(any(e.name == "permessage-deflate" for e in ws.extensions),
              "client runs the deflate extension (%r)" % [e.name for e in ws.extensions])
        check(ws.subprotocol == "chat", "subprotocol chat negotiated (got %r)" % ws.subprotocol)

        for n in (13, 64 << 10, 1 << 20):
            text = ("evhttpd ünïcødé " * (n // 16 + 1)).encode("utf-8")[:n].decode("utf-8", "ignore")
            await ws.send(text)
            got = await asyncio.wait_for(ws.recv(), 30)
            check(got == text, "text echo of %d bytes" % len(text.encode("utf-8")))

            blob = os.urandom(n)
            await ws.send(blob)
            got = await asyncio.wait_for(ws.recv(), 30)
            check(got == blob, "binary echo of %d bytes" % n)

        # RFC 6455 5.5.2-3: the pong waiter resolves when a pong with the same
        # payload arrives.
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 30)
        check(True, "pong for the ping payload")

        await ws.send("Trigger async")
        got = await asyncio.wait_for(ws.recv(), 30)
        check(got == "Async data", "Trigger async -> Async data (got %r)" % got)

        # RFC 6455 5.5.1: the server answers a close with a close echoing
        # the code; close() waits for it.
        await ws.close(1000, "bye")
        rcvd = ws.close_rcvd
        check(rcvd is not None and rcvd.code == 1000,
              "close 1000 echoed (got %r)" % (rcvd,))
    print("websockets %s: all checks passed" % websockets.version.version)


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1]))
