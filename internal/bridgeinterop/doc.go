// Package bridgeinterop tests evhttpd's net/http bridge (package nethttp)
// and its Hijack against code nobody here wrote: Go's http.Client, curl,
// http.FileServer, net/http/pprof, klauspost/compress's gzhttp, go-chi/chi
// with its middleware, prometheus/client_golang's promhttp, and gorilla's
// and coder's WebSocket servers. It is a module of its own so that none of
// them enters the root go.mod.
package bridgeinterop
