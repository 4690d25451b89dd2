package interop

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	httpd "github.com/evhttpd/httpd"
	"github.com/evhttpd/httpd/internal/demo"
)

// requiredEnv names the environment variable that turns a missing tool from
// a skip into a failure; CI sets it to requiredValue.
const (
	requiredEnv   = "EVHTTPD_INTEROP"
	requiredValue = "required"
	logEnv        = "EVHTTPD_INTEROP_LOG"
)

// Bounds on each test. They are generous because the machine is small and
// shared: they exist to end a hung client, not to measure speed.
const (
	goClientTimeout = 60 * time.Second  // one Go client test, dial to close
	scriptTimeout   = 120 * time.Second // one Python or Node script
	browserTimeout  = 180 * time.Second // Chromium start, page, click, screenshot
)

// startDemo starts the demo server on a free loopback port with two event
// loops and a logger that drops everything (EVHTTPD_INTEROP_LOG=1 sends the
// server's debug log to stderr instead), and stops it when the
// test ends. It returns the "host:port" the server listens on.
func startDemo(t *testing.T) string {
	t.Helper()
	var quiet *slog.Logger
	if os.Getenv(logEnv) != "" {
		quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	} else {
		quiet = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	// EVHTTPD_ENGINE picks the engine backend (test.sh runs this module
	// on each); empty is the default, gnet.
	srv, err := demo.Start(httpd.Config{Addr: "127.0.0.1:0", EventLoops: 2, Logger: quiet,
		Engine: os.Getenv("EVHTTPD_ENGINE")}, quiet)
	if err != nil {
		t.Fatalf("demo.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return srv.Addr().String()
}

// missingTool ends the test because an external tool is not installed: a
// failure when EVHTTPD_INTEROP=required, a skip otherwise.
func missingTool(t *testing.T, what string) {
	t.Helper()
	msg := what + " is not installed; run internal/interop/setup.sh as root"
	if os.Getenv(requiredEnv) == requiredValue {
		t.Fatalf("%s (%s=%s)", msg, requiredEnv, requiredValue)
	}
	t.Skipf("%s (set %s=%s to make this a failure)", msg, requiredEnv, requiredValue)
}

// needFile checks that path exists, else ends the test through missingTool.
func needFile(t *testing.T, path, what string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missingTool(t, what+" ("+path+")")
	}
}

// needCommand returns the path of an executable found in PATH, else ends
// the test through missingTool.
func needCommand(t *testing.T, name, what string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missingTool(t, what+" ("+name+" not in PATH)")
	}
	return p
}

// needPython checks that Debian's python3 can import module, else ends the
// test through missingTool.
func needPython(t *testing.T, python, module, pkg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, python, "-c", "import "+module).CombinedOutput(); err != nil {
		missingTool(t, "Debian package "+pkg+" (python3 -c 'import "+module+"': "+
			strings.TrimSpace(string(out))+")")
	}
}

// needNodeModules checks that npm ci has run in node/, else ends the test
// through missingTool.
func needNodeModules(t *testing.T, pkgs ...string) string {
	t.Helper()
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		needFile(t, filepath.Join(dir, "node_modules", p, "package.json"), "npm package "+p)
	}
	return dir
}

// runScript runs an external client with a deadline, killing it (and, through
// WaitDelay, abandoning its pipes) when the deadline passes. The script's
// combined output is logged; a non-zero exit fails the test.
func runScript(t *testing.T, timeout time.Duration, dir string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s %s (%v):\n%s", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond), out.String())
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v and was killed", name, timeout)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out.String()
}

// randomBytes returns n pseudo-random bytes from a fixed seed, so a failure
// repeats with the same payload.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// textPayload returns n bytes of valid UTF-8 text (ASCII and two-byte runes)
// that compresses moderately, for text messages.
func textPayload(n int) string {
	const unit = "evhttpd ünïcødé echo 0123456789 "
	var sb strings.Builder
	sb.Grow(n + len(unit))
	for sb.Len() < n {
		sb.WriteString(unit)
	}
	s := sb.String()
	// Trim to n bytes without splitting a rune.
	for n > 0 && n < len(s) && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

// messageSizes are the echo sizes every Go WebSocket client tries on one
// connection, before its ping, Trigger async and close checks.
var messageSizes = []struct {
	name string
	n    int
}{
	{"small", 13},
	{"64KiB", 64 << 10},
	{"1MiB", 1 << 20},
}

// bigMessage is the size of the large echo each Go client tries on a
// connection of its own, so that its failure does not hide the other checks.
// It is half the demo's 16 MiB message limit.
const bigMessage = 8 << 20
