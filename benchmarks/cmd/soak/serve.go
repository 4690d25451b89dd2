package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	httpd "github.com/evhttpd/httpd"
	"github.com/evhttpd/httpd/internal/demo"
)

// serveInfo is what the -serve process prints on its "ready" line.
type serveInfo struct {
	Addr    string `json:"addr"`     // plain HTTP and WebSocket
	TLSAddr string `json:"tls_addr"` // HTTPS
	Ctrl    string `json:"ctrl"`     // control socket of the plain server
	TLSCtrl string `json:"tls_ctrl"` // control socket of the TLS server
	Stats   string `json:"stats"`    // net/http stats endpoint
	Loops   int    `json:"loops"`    // event loops per server
	Config  string `json:"config"`   // the limits the soak sets, for the report
	MaxOpen int    `json:"max_open"` // MaxOpenSockets per server
	EnrollQ int    `json:"enroll_q"` // enrolments in flight at most, both servers
	Workers int    `json:"workers"`  // blocking plus TLS handshake workers
}

// serverStats is the server's own view of itself, served as JSON.
type serverStats struct {
	HeapAlloc  uint64 `json:"heap_alloc"` // live heap (after a GC when asked with ?gc=1)
	HeapInuse  uint64 `json:"heap_inuse"`
	Sys        uint64 `json:"sys"`
	Goroutines int    `json:"goroutines"`
	FDs        int    `json:"fds"`
	Sessions   int    `json:"sessions"` // open sessions, both servers
	Opened     int64  `json:"opened"`   // OnOpen calls
	Freed      int64  `json:"freed"`    // session-context free callbacks run
	Purged     int64  `json:"purged"`   // LRU purges
	Rejected   int64  `json:"rejected"` // 503 at open
	Buffered   int64  `json:"buffered"` // bytes held for sessions, counted against MaxBufferedBytes
	Resets     int64  `json:"resets"`   // sessions reset over MaxBufferedBytes
	NumGC      uint32 `json:"num_gc"`
}

// serveConfig is the server configuration of the soak: limits short enough
// that every attacker is cut within seconds, so a scenario of a minute sees
// many of its connections come and go.
func serveConfig(opened, freed *atomic.Int64) httpd.Config {
	return httpd.Config{
		Addr:                "127.0.0.1:0",
		MaxOpenSockets:      maxOpen,
		LRUPurgeEnable:      true,
		MaxOutbound:         1 << 20,
		HeaderTimeout:       2 * time.Second,
		RecvWaitTimeout:     2 * time.Second,
		BodyTimeout:         10 * time.Second,
		MinBodyRate:         1024,
		MaxBufferedBytes:    budget,
		SendWaitTimeout:     2 * time.Second,
		IdleTimeout:         5 * time.Second,
		WSIdleTimeout:       5 * time.Second,
		LingerTimeout:       time.Second,
		TLSHandshakeTimeout: 2 * time.Second,
		Logger:              slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		OnOpen: func(s *httpd.Session) error {
			opened.Add(1)
			// The free callback is the session's: it must run exactly once
			// whichever way the session ends.
			s.SetCtx(opened, func(any) { freed.Add(1) })
			return nil
		},
	}
}

// maxOpen is MaxOpenSockets of each server: low enough that the session
// flood reaches it in a second or two.
const maxOpen = 512

// budget is MaxBufferedBytes of each server: the input and output all its
// sessions may hold at once. The good clients need a few MiB of it; the
// never-reading clients alone could hold several times more.
const budget = 64 << 20

// configText describes serveConfig for the report.
const configText = "MaxOpenSockets 512 with LRUPurgeEnable, MaxBufferedBytes 64 MiB, MaxOutbound 1 MiB, " +
	"HeaderTimeout 2 s, RecvWaitTimeout 2 s, BodyTimeout 10 s, MinBodyRate 1 KiB/s, SendWaitTimeout 2 s, IdleTimeout 5 s, " +
	"WSIdleTimeout 5 s, LingerTimeout 1 s, TLSHandshakeTimeout 2 s, other fields default; " +
	"routes of internal/demo (WebSocket message limit 16 MiB, permessage-deflate)"

// serve runs the two servers (plain and TLS) and the stats endpoint until
// SIGTERM or SIGINT, then stops them and prints their last stats.
func serve(certFile, keyFile string) error {
	var opened, freed atomic.Int64
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

	plain, err := demo.Start(serveConfig(&opened, &freed), log)
	if err != nil {
		return fmt.Errorf("plain server: %w", err)
	}
	defer plain.Stop()
	tcfg, err := httpd.TLSConfigFromFiles(certFile, keyFile, "")
	if err != nil {
		return err
	}
	cfg := serveConfig(&opened, &freed)
	cfg.TLS = tcfg
	secure, err := demo.Start(cfg, log)
	if err != nil {
		return fmt.Errorf("TLS server: %w", err)
	}
	defer secure.Stop()

	stats := func(gc bool) serverStats {
		if gc {
			// Twice: sync.Pool keeps its objects for one more cycle.
			runtime.GC()
			runtime.GC()
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		a, b := plain.Stats(), secure.Stats()
		return serverStats{
			HeapAlloc: m.HeapAlloc, HeapInuse: m.HeapInuse, Sys: m.Sys,
			Goroutines: runtime.NumGoroutine(),
			FDs:        openFDs(),
			Sessions:   a.Sessions + b.Sessions,
			Opened:     opened.Load(),
			Freed:      freed.Load(),
			Purged:     a.Purged + b.Purged,
			Rejected:   a.Rejected + b.Rejected,
			Buffered:   a.Buffered + b.Buffered,
			Resets:     a.BudgetResets + b.BudgetResets,
			NumGC:      m.NumGC,
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(stats(r.URL.Query().Get("gc") == "1"))
	})
	// Profiles of the server under attack, for diagnosing a broken invariant
	// (go tool pprof http://STATS/debug/pprof/heap).
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()

	procs := runtime.GOMAXPROCS(0)
	info := serveInfo{
		Addr: plain.Addr().String(), TLSAddr: secure.Addr().String(),
		Ctrl: plain.CtrlAddr().String(), TLSCtrl: secure.CtrlAddr().String(),
		Stats: ln.Addr().String(), Loops: procs, Config: configText, MaxOpen: maxOpen,
		// The defaults of EnrollQueue (8 per loop), BlockingWorkers
		// (64 * GOMAXPROCS) and TLSHandshakeWorkers (2 * GOMAXPROCS).
		EnrollQ: 2 * 8 * procs, Workers: 2*64*procs + 2*procs,
	}
	b, _ := json.Marshal(info)
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(out, "ready %s\n", b)
	out.Flush()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	errP, errS := plain.Stop(), secure.Stop()
	b, _ = json.Marshal(stats(true))
	fmt.Fprintf(out, "stopped %s\n", b)
	out.Flush()
	return errors.Join(errP, errS)
}

// openFDs counts the process's open descriptors, less the one reading the
// directory.
func openFDs() int {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return -1
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return -1
	}
	return len(names) - 1
}
