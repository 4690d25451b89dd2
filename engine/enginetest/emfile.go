//go:build linux

package enginetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evhttpd/httpd/engine"
)

func init() { tests = append(tests, namedTest{"AcceptEMFILE", testAcceptEMFILE}) }

// testAcceptEMFILE runs an engine in a child process whose descriptor limit
// is 64, fills it with clients from this process, and checks that the
// acceptor backs off (few accept attempts per second, not a spin) and serves
// again once descriptors are free.
func testAcceptEMFILE(t *testing.T) {
	if os.Getenv(emfileChildEnv) == "1" {
		emfileChild()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The child runs this subtest only (Run sees the variable).
	parent, _, _ := strings.Cut(t.Name(), "/")
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+parent+"$/^AcceptEMFILE$")
	cmd.Env = append(os.Environ(), emfileChildEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		fmt.Fprintln(stdin, "quit")
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("child: %v", err)
		}
	}()
	lines := bufio.NewScanner(stdout)
	next := func(prefix string) string {
		for lines.Scan() {
			if s, ok := strings.CutPrefix(lines.Text(), prefix); ok {
				return s
			}
		}
		t.Fatalf("child ended before a %q line: %v", prefix, lines.Err())
		return ""
	}
	addr := next("addr ")
	type stats struct{ accepted, acceptErrors, enrollErrors, backoffs uint64 }
	getStats := func() stats {
		fmt.Fprintln(stdin, "stats")
		var s stats
		if _, err := fmt.Sscan(next("stats "), &s.accepted, &s.acceptErrors, &s.enrollErrors, &s.backoffs); err != nil {
			t.Fatalf("bad stats line: %v", err)
		}
		return s
	}

	// More clients than the child has descriptors; the kernel completes
	// their handshakes in the listen backlog whether accepted or not.
	var clients []net.Conn
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for range 100 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		clients = append(clients, c)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := getStats()
		if s.acceptErrors+s.enrollErrors > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no accept failure with 100 clients and 64 descriptors: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Back-off: once the episode settled (the first pauses are short, and
	// enrollments that fail together free descriptors for a few more
	// tries), the acceptor may try about ten times a second (pauses capped
	// at 100ms); a spin would make tens of thousands.
	// More clients keep arriving meanwhile, so the backlog never runs dry
	// and only the back-off limits the attempts.
	time.Sleep(500 * time.Millisecond)
	s1 := getStats()
	for range 200 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		clients = append(clients, c)
		time.Sleep(5 * time.Millisecond)
	}
	s2 := getStats()
	window := 200 * 5 * time.Millisecond
	attempts := (s2.accepted - s1.accepted) + (s2.acceptErrors - s1.acceptErrors)
	if attempts > 40 {
		t.Errorf("%d accept attempts in %v under EMFILE; want a back-off (<= 40)", attempts, window)
	}
	if s2.backoffs == 0 {
		t.Errorf("no back-off episode counted: %+v", s2)
	}
	t.Logf("under EMFILE: %d attempts in %v (at least); stats %+v", attempts, window, s2)

	// Free the descriptors: close every client. The server sees EOF,
	// closes its side; then a new client must be served.
	for _, c := range clients {
		c.Close()
	}
	clients = nil
	deadline = time.Now().Add(30 * time.Second)
	for {
		err := tryEcho(addr)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not served after the descriptors were freed: %v (stats %+v)", err, getStats())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tryEcho(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		return err
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil {
		return err
	}
	if string(b) != "ping" {
		return fmt.Errorf("echo %q", b)
	}
	return nil
}

// emfileChild is the server side: limit 64 descriptors, an echo engine,
// and a line protocol on stdin/stdout for the parent.
func emfileChild() {
	lim := syscall.Rlimit{Cur: 64, Max: 64}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err == nil && old.Max < lim.Max {
		lim.Max, lim.Cur = old.Max, old.Max
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "setrlimit:", err)
		os.Exit(2)
	}
	e, err := engine.Start(config(engine.Config{
		Addr:             "127.0.0.1:0",
		Loops:            1,
		AcceptBackoffMax: 100 * time.Millisecond,
		Logger:           testLogger(),
	}), newEcho())
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(2)
	}
	fmt.Println("addr", e.Addr().String())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "stats":
			s := e.Stats()
			fmt.Println("stats", s.Accepted, s.AcceptErrors, s.EnrollErrors, s.AcceptBackoffs)
		case "quit":
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := e.Stop(ctx)
			cancel()
			if err != nil {
				fmt.Fprintln(os.Stderr, "stop:", err)
				os.Exit(2)
			}
			os.Exit(0)
		}
	}
	os.Exit(0)
}
