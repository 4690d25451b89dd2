package enginetest

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/evhttpd/httpd/engine"
)

// Suite names the backend under test.
type Suite struct {
	// Backend is the registered name (its package must be imported).
	Backend string
	// Options, when not nil, is passed as engine.Config.Options.
	Options any
	// LeakIgnore lists goroutines of the poller library that outlive an
	// engine by design (process-wide pools and pollers).
	LeakIgnore []goleak.Option
	// PollerAllocs is how many heap allocations the poller library itself
	// makes per readable event, which the allocation gate allows for (the
	// engine's own share must be zero). gnet: 0.
	PollerAllocs int
}

// emfileChildEnv marks the child process of the EMFILE test (Linux only).
const emfileChildEnv = "EVHTTPD_ENGINE_EMFILE_CHILD"

// suite is the Suite being run (Run is not for parallel use).
var suite Suite

type namedTest struct {
	name string
	f    func(t *testing.T)
}

// tests is the suite; files with build constraints (Linux-only EMFILE)
// add theirs in init. allocTests are the allocation gates, run apart
// (RunAlloc) and only without the race detector.
var tests = []namedTest{
	{"Echo", testEcho},
	{"StopConcurrent", testStopConcurrent},
	{"StartInvalidConfig", testStartInvalidConfig},
	{"ListenerAndCtrlPort", testListenerAndCtrlPort},
	{"CloseInCallbacks", testCloseInCallbacks},
	{"CloseOther", testCloseOther},
	{"CloseWrite", testCloseWrite},
	{"CloseWriteImmediate", testCloseWriteImmediate},
	{"Reset", testReset},
	{"PeerClose", testPeerClose},
	{"PeerSendsAndCloses", testPeerSendsAndCloses},
	{"BackpressureCount", testBackpressureCount},
	{"LeftoverKept", testLeftoverKept},
	{"IdleNoGoroutine", testIdleNoGoroutine},
	{"ConnAddrs", testConnAddrs},
	{"WakeConcurrent", testWakeConcurrent},
	{"WakeBadLoop", testWakeBadLoop},
	{"JunkDatagrams", testJunkDatagrams},
	{"Timers", testTimers},
	{"Ticks", testTicks},
}

var allocTests []namedTest

// RunAlloc runs the suite's allocation gates against s.Backend as subtests
// of t. They are built without the race detector only (its instrumentation
// allocates); a backend calls it from a test whose name contains "Alloc",
// so that ./test.sh's allocation pass (-run Alloc) finds it.
func RunAlloc(t *testing.T, s Suite) {
	suite = s
	for _, tc := range allocTests {
		t.Run(tc.name, tc.f)
	}
}

// Run runs the whole suite but the allocation gates against s.Backend as
// subtests of t.
func Run(t *testing.T, s Suite) {
	suite = s
	// The EMFILE test's child process runs only that subtest.
	child := os.Getenv(emfileChildEnv) != ""
	for _, tc := range tests {
		if !child || tc.name == "AcceptEMFILE" {
			t.Run(tc.name, tc.f)
		}
	}
}

// Bench runs the suite's benchmarks against s.Backend as sub-benchmarks.
func Bench(b *testing.B, s Suite) {
	suite = s
	b.Run("Wake", benchWake)
	b.Run("WakeUncoalesced", benchWakeUncoalesced)
	b.Run("EchoLoopback", benchEchoLoopback)
	b.Run("Connect", benchConnect)
}

// config returns cfg aimed at the backend under test.
func config(cfg engine.Config) engine.Config {
	cfg.Backend = suite.Backend
	if cfg.Options == nil {
		cfg.Options = suite.Options
	}
	return cfg
}
