"""Checks the demo's /ws with websocket-client (Debian's python3-websocket).

Usage: python3 websocket_client_check.py HOST:PORT

Echoes text and binary messages, pings, checks the negotiated subprotocol,
sends "Trigger async" and waits for "Async data", then closes with 1000 and
checks that the server's close frame echoes the code. Prints one line per
check and exits 0 only if every check passed.
"""

import os
import struct
import sys

import websocket
from websocket import ABNF


def check(cond, what):
    if not cond:
        print("FAIL", what, flush=True)
        sys.exit(1)
    print("ok  ", what, flush=True)


def main():
    addr = sys.argv[1]
    ws = websocket.create_connection(
        "ws://%s/ws" % addr, subprotocols=["chat"], timeout=30)
    check(ws.getstatus() == 101, "handshake status 101 (got %s)" % ws.getstatus())
    check(ws.getsubprotocol() == "chat",
          "subprotocol chat negotiated (got %r)" % ws.getsubprotocol())

    for n in (13, 64 << 10, 1 << 20):
        # n bytes of UTF-8, cut back to a rune boundary.
        text = ("evhttpd ünïcødé " * (n // 16 + 1)).encode("utf-8")[:n].decode("utf-8", "ignore")
        ws.send(text)
        opcode, data = ws.recv_data()
        check(opcode == ABNF.OPCODE_TEXT and data.decode("utf-8") == text,
              "text echo of %d bytes" % len(text.encode("utf-8")))

        blob = os.urandom(n)
        ws.send_binary(blob)
        opcode, data = ws.recv_data()
        check(opcode == ABNF.OPCODE_BINARY and data == blob,
              "binary echo of %d bytes" % n)

    # RFC 6455 5.5.2-3: a ping gets a pong with the same application data.
    ws.ping(b"are you there")
    opcode, data = ws.recv_data(control_frame=True)
    check(opcode == ABNF.OPCODE_PONG and data == b"are you there",
          "pong echoes the ping payload (got opcode %d %r)" % (opcode, data))

    ws.send("Trigger async")
    opcode, data = ws.recv_data()
    check(opcode == ABNF.OPCODE_TEXT and data == b"Async data",
          "Trigger async -> Async data (got %r)" % data)

    # RFC 6455 5.5.1: the server answers a close with a close echoing the code.
    ws.send_close(1000, b"bye")
    opcode, data = ws.recv_data(control_frame=True)
    code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
    check(opcode == ABNF.OPCODE_CLOSE and code == 1000,
          "close 1000 echoed (got opcode %d code %r)" % (opcode, code))
    ws.shutdown()
    print("websocket-client %s: all checks passed" % websocket.__version__)


if __name__ == "__main__":
    main()
