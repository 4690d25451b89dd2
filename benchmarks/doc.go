// Package benchmarks compares evhttpd with peer libraries. It is its own
// module so that the peers (fasthttp, a raw gnet server, hertz, nbio and the
// WebSocket libraries) never enter the root go.mod.
//
// Parser microbenchmarks live in parse_test.go and run through parse.sh,
// which repeats them, summarises them with benchstat and prints the ratios
// computed by cmd/ratios:
//
//	./parse.sh               # writes results/parse.txt and results/parse.benchstat.txt
//
// BenchmarkParseByteAtATime makes one ParseHead call per byte, so its cost
// is mostly per-call overhead, not scanning. BenchmarkParseCallFloor makes
// the same calls to a parser that does nothing but resume and save one
// offset: the ratio byte-at-a-time / floor is the parser's own per-call
// cost, and ns/B of BenchmarkParseWorstCase/LongLine staying flat from
// 4 KiB to 32 KiB shows that nothing is rescanned.
//
// The plaintext server comparison builds cmd/peers and drives every server
// with wrk through http.sh:
//
//	./http.sh                # writes results/http.txt
//	QUICK=1 ./http.sh        # one short repetition, for a smoke run
//
// The whole side-by-side suite (issues 4 and 6) is run.sh, which drives
// cmd/suite: HTTP plaintext against gnet-raw, fasthttp, net/http, hertz and
// nbio (wrk, with and without pipelining, 16/64/256 connections, CPU per
// request, p50/p99), WebSocket echo against gws, gorilla, coder/websocket,
// gobwas/ws and nbio (cmd/wsload, 1 000 connections, 64 B, 1 KiB and 1 KiB
// with permessage-deflate), idle memory per upgraded connection at 1 000
// and 10 000 connections, and the codec microbenchmarks with benchstat
// (ws_test.go compares masking and frame headers with gobwas/ws):
//
//	QUICK=1 ./run.sh         # < 5 min; exits 1 when evhttpd misses a target
//	./run.sh                 # < 30 min; writes results/suite.json, RESULTS.md, charts/*.svg
//
// Absolute numbers from one machine are noise; the ratios between libraries
// measured in the same run are what the scripts report.
package benchmarks
