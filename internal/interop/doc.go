// Package interop checks the demo server (internal/demo) against clients
// nobody on this project wrote: the gorilla/websocket and coder/websocket Go
// clients, net/http's client, Python's websocket-client and websockets, Node's
// ws, and Debian's Chromium driven by playwright-core.
//
// It is its own Go module so that third-party clients never enter the root
// go.mod. The Python and Node clients are scripts under python/ and node/
// that the Go tests start with the server's address; setup.sh installs them
// on a fresh Debian machine. A test whose tool is missing skips, or fails
// when EVHTTPD_INTEROP=required is set (as CI sets it).
package interop
