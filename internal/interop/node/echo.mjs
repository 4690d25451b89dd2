// Checks the demo's /ws with the Node "ws" client.
//
// Usage: node echo.mjs HOST:PORT
//
// Offers permessage-deflate and subprotocol chat and asserts both were
// accepted, echoes text and binary messages up to 1 MiB, pings, sends
// "Trigger async" and waits for "Async data", then closes with 1000 and checks
// that the server's close frame echoes the code. Prints one line per check
// and exits 0 only if every check passed.
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createRequire } from "node:module";
import WebSocket from "ws";

const version = createRequire(import.meta.url)("ws/package.json").version;

function check(cond, what) {
  if (!cond) {
    console.log("FAIL", what);
    process.exit(1);
  }
  console.log("ok  ", what);
}

// next resolves with the next message as { data, isBinary }.
function next(ws) {
  return new Promise((resolve, reject) => {
    const onMessage = (data, isBinary) => {
      ws.off("close", onClose);
      resolve({ data, isBinary });
    };
    const onClose = (code) => {
      ws.off("message", onMessage);
      reject(new Error(`connection closed (${code}) while waiting for a message`));
    };
    ws.once("message", onMessage);
    ws.once("close", onClose);
  });
}

const addr = process.argv[2];
const ws = new WebSocket(`ws://${addr}/ws`, ["chat"], {
  perMessageDeflate: { threshold: 0 },
  handshakeTimeout: 30000,
});
ws.on("error", (err) => {
  console.log("FAIL", "socket error:", err.message);
  process.exit(1);
});
await once(ws, "open");

check(ws.protocol === "chat", `subprotocol chat negotiated (got ${JSON.stringify(ws.protocol)})`);
check(ws.extensions.includes("permessage-deflate"),
  `permessage-deflate negotiated (got ${JSON.stringify(ws.extensions)})`);

for (const n of [13, 64 << 10, 1 << 20]) {
  const text = Buffer.from("evhttpd ünïcødé ".repeat(Math.ceil(n / 16))).subarray(0, n).toString("utf8")
    .replace(/\uFFFD$/, "");
  ws.send(text);
  let m = await next(ws);
  check(!m.isBinary && m.data.toString("utf8") === text, `text echo of ${Buffer.byteLength(text)} bytes`);

  const blob = randomBytes(n);
  ws.send(blob);
  m = await next(ws);
  check(m.isBinary && Buffer.compare(m.data, blob) === 0, `binary echo of ${n} bytes`);
}

// RFC 6455 5.5.2-3: a ping gets a pong with the same application data.
const pong = once(ws, "pong");
ws.ping(Buffer.from("are you there"));
const [pongData] = await pong;
check(pongData.toString() === "are you there", `pong echoes the ping payload (got ${JSON.stringify(pongData.toString())})`);

ws.send("Trigger async");
const m = await next(ws);
check(!m.isBinary && m.data.toString() === "Async data", `Trigger async -> Async data (got ${JSON.stringify(m.data.toString())})`);

// RFC 6455 5.5.1: the server answers a close with a close echoing the code;
// "close" reports the code of the frame received.
const closed = once(ws, "close");
ws.close(1000, "bye");
const [code] = await closed;
check(code === 1000, `close 1000 echoed (got ${code})`);
console.log(`ws ${version}: all checks passed`);
