// Package benchmarks compares evhttpd with peer libraries. It is its own
// module so that the peers (fasthttp, a raw gnet server) never enter the root
// go.mod.
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
// Absolute numbers from one machine are noise; the ratios between libraries
// measured in the same run are what the scripts report.
package benchmarks
