package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// echoServer is a gorilla echo on any path, over a loopback listener.
func echoServer(t *testing.T, compress bool) string {
	t.Helper()
	up := websocket.Upgrader{EnableCompression: compress}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(typ, p); err != nil {
				return
			}
		}
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func TestEcho(t *testing.T) {
	for _, tt := range []struct {
		size    int
		deflate bool
	}{{64, false}, {1024, false}, {70000, false}, {1024, true}} {
		name := "size" + strconv.Itoa(tt.size)
		if tt.deflate {
			name += "/deflate"
		}
		t.Run(name, func(t *testing.T) {
			o := options{addr: echoServer(t, tt.deflate), path: "/ws", conns: 4, size: tt.size,
				duration: 200 * time.Millisecond, deflate: tt.deflate, dialers: 2,
				timeout: 10 * time.Second, maxSamples: 100}
			if runtime.GOOS == "linux" {
				o.pid = os.Getpid()
			}
			r, err := run(o)
			if err != nil {
				t.Fatalf("run(%+v) = %v", o, err)
			}
			if r.Errors != 0 || r.Messages == 0 || r.MsgPerSec <= 0 || r.P50us <= 0 || r.P99us < r.P50us {
				t.Errorf("run(%+v) = %+v; want messages, no errors, 0 < p50 <= p99", o, r)
			}
			if r.Negotiated != tt.deflate {
				t.Errorf("deflate negotiated = %v; want %v", r.Negotiated, tt.deflate)
			}
		})
	}
}

func TestIdle(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("RSS from /proc is Linux-only")
	}
	// -gc signals the measured process; here that is the test itself,
	// which counts the signals instead of dying of them.
	usr1 := make(chan os.Signal, 4)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	o := options{addr: echoServer(t, false), path: "/ws", conns: 20, idle: true, gc: true, pid: os.Getpid(),
		dialers: 4, timeout: 10 * time.Second, settle: 10 * time.Millisecond}
	r, err := run(o)
	if err != nil {
		t.Fatalf("run(idle) = %v", err)
	}
	if r.Mode != "idle" || r.RSSBefore <= 0 || r.RSSAfter <= 0 || r.RSSBeforeGC <= 0 || r.RSSAfterGC <= 0 || r.Conns != 20 {
		t.Errorf("run(idle) = %+v; want RSS readings, raw and after GC, for 20 connections", r)
	}
	for i := range 2 {
		select {
		case <-usr1:
		case <-time.After(5 * time.Second):
			t.Fatalf("SIGUSR1 %d of 2 not received", i+1)
		}
	}
}

func TestRejects(t *testing.T) {
	for _, o := range []options{
		{addr: "127.0.0.1:1", conns: 0, dialers: 1},
		{addr: "127.0.0.1:1", conns: 1, dialers: 1, idle: true},
	} {
		if _, err := run(o); err == nil {
			t.Errorf("run(%+v) = nil; want an error", o)
		}
	}
	// A server that refuses the upgrade.
	s := httptest.NewServer(http.NotFoundHandler())
	defer s.Close()
	o := options{addr: strings.TrimPrefix(s.URL, "http://"), path: "/ws", conns: 1, dialers: 1,
		duration: time.Millisecond, timeout: 5 * time.Second, maxSamples: 1}
	if _, err := run(o); err == nil {
		t.Errorf("run(against a 404 server) = nil; want an error")
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{1000, 2000, 3000, 4000}
	for _, tt := range []struct {
		q    float64
		want float64
	}{{0.5, 2}, {0.99, 4}, {0, 1}} {
		if got := percentile(d, tt.q); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v; want %v", d, tt.q, got, tt.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile(nil) = %v; want 0", got)
	}
}
