"""Checks the demo's /events Server-Sent Events stream with Python's own
HTTP client (http.client, standard library).

Usage: python3 sse_check.py HOST:PORT

Reads 10 events produced every 300 ms and checks that each one arrived
before the server produced the next (its "t" field is the production time
in Unix milliseconds): an event held back in a server buffer would arrive
together with a later one. Then checks the stream ends cleanly. Prints one
line per check and exits 0 only if every check passed.
"""

import http.client
import json
import sys
import time

EVERY_MS = 300
COUNT = 10


def check(cond, what):
    if not cond:
        print("FAIL", what, flush=True)
        sys.exit(1)
    print("ok  ", what, flush=True)


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/events?every=%dms&count=%d" % (EVERY_MS, COUNT),
                 headers={"Accept": "text/event-stream"})
    resp = conn.getresponse()
    check(resp.status == 200, "status 200 (got %d)" % resp.status)
    check(resp.getheader("Content-Type") == "text/event-stream",
          "Content-Type text/event-stream (got %r)" % resp.getheader("Content-Type"))
    n = 0
    while True:
        line = resp.readline()
        if not line:
            break
        arrived = time.time() * 1000
        line = line.decode("utf-8").rstrip("\n")
        if not line.startswith("data: "):
            continue
        ev = json.loads(line[len("data: "):])
        check(ev["n"] == n, "event %d in order (got %d)" % (n, ev["n"]))
        late = arrived - ev["t"]
        check(late < EVERY_MS,
              "event %d arrived %.0f ms after it was produced, before the next" % (n, late))
        n += 1
        if n == COUNT:
            break
    check(n == COUNT, "%d events (got %d)" % (COUNT, n))
    rest = resp.read()
    check(rest.strip() == b"", "stream ends after the last event (left %r)" % rest[:40])
    conn.close()


if __name__ == "__main__":
    main()
