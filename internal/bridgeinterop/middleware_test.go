package bridgeinterop

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/klauspost/compress/gzhttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// TestPprof mounts net/http/pprof's handlers: the index, a goroutine dump,
// the command line and a one-second CPU profile (a gzipped protobuf).
func TestPprof(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	s := startBridge(t, false, "/debug/pprof/", mux)

	res, b := s.do(t, "GET", "/debug/pprof/", nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), "goroutine") || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("index: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	res, b = s.do(t, "GET", "/debug/pprof/goroutine?debug=1", nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), "goroutine profile:") {
		t.Errorf("goroutine: %d %.80q", res.StatusCode, b)
	}
	res, b = s.do(t, "GET", "/debug/pprof/cmdline", nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), "bridgeinterop") {
		t.Errorf("cmdline: %d %q", res.StatusCode, b)
	}
	res, b = s.do(t, "GET", "/debug/pprof/profile?seconds=1", nil)
	if res.StatusCode != 200 || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("profile: %d, %d bytes %.20q", res.StatusCode, len(b), b)
	}
}

// TestGzhttp wraps a handler in klauspost/compress's gzhttp: compressed
// when the client accepts gzip (Vary set, no Content-Length of the
// plaintext), plain otherwise, small replies untouched.
func TestGzhttp(t *testing.T) {
	big := strings.Repeat(`{"id":12345,"name":"an item with a name"},`, 2000)
	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, big)
	})
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "tiny") })
	s := startBridge(t, false, "/", gzhttp.GzipHandler(mux))

	res, b := s.do(t, "GET", "/big", nil, "Accept-Encoding", "gzip")
	if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") || len(b) >= len(big)/4 {
		t.Fatalf("gzip: %v, %d bytes", res.Header, len(b))
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || string(plain) != big {
		t.Errorf("gunzip: %v, %d bytes", err, len(plain))
	}
	res, b = s.do(t, "GET", "/big", nil)
	if res.Header.Get("Content-Encoding") != "" || string(b) != big {
		t.Errorf("identity: %q, %d bytes", res.Header.Get("Content-Encoding"), len(b))
	}
	res, b = s.do(t, "GET", "/small", nil, "Accept-Encoding", "gzip")
	if res.Header.Get("Content-Encoding") != "" || string(b) != "tiny" {
		t.Errorf("small: %q %q", res.Header.Get("Content-Encoding"), b)
	}
}

// cors is a CORS-style middleware as applications write them: it answers
// preflights itself and marks every reply.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Add("Vary", "Origin")
		}
		if r.Method == "OPTIONS" && r.Header.Get("Access-Control-Request-Method") != "" {
			w.Header().Set("Access-Control-Allow-Methods", "GET, PUT, DELETE")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// panicToLog is chi's DefaultLogFormatter whose entries write a recovered
// panic to the log instead of a coloured stack on stderr.
type panicToLog struct {
	middleware.LogFormatter
	w io.Writer
}

func (f panicToLog) NewLogEntry(r *http.Request) middleware.LogEntry {
	return panicEntry{f.LogFormatter.NewLogEntry(r), f.w}
}

type panicEntry struct {
	middleware.LogEntry
	w io.Writer
}

func (e panicEntry) Panic(v any, stack []byte) { fmt.Fprintf(e.w, "panic: %v\n", v) }

// TestChi runs a go-chi/chi router with its Logger, Recoverer, RequestID
// and Timeout middleware and a CORS-style one.
func TestChi(t *testing.T) {
	var logs syncBuffer
	r := chi.NewRouter()
	r.Use(middleware.RequestID)
	r.Use(middleware.RequestLogger(panicToLog{&middleware.DefaultLogFormatter{Logger: log.New(&logs, "", 0), NoColor: true}, &logs}))
	r.Use(middleware.Recoverer)
	r.Use(cors)
	r.Get("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"id": chi.URLParam(r, "id"), "rid": middleware.GetReqID(r.Context())})
	})
	r.Get("/panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	r.With(middleware.Timeout(50*time.Millisecond)).Get("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done(): // the Timeout middleware's deadline
		case <-time.After(30 * time.Second):
			io.WriteString(w, "too late")
		}
	})
	s := startBridge(t, false, "/", r)

	res, b := s.do(t, "GET", "/items/42", nil, "X-Request-Id", "req-7", "Origin", "https://app.example")
	var got map[string]string
	if err := json.Unmarshal(b, &got); err != nil || got["id"] != "42" || got["rid"] != "req-7" ||
		res.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("items: %d %s %v", res.StatusCode, b, res.Header)
	}
	res, _ = s.do(t, "OPTIONS", "/items/42", nil, "Origin", "https://app.example", "Access-Control-Request-Method", "PUT")
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Methods") != "GET, PUT, DELETE" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}
	res, _ = s.do(t, "GET", "/panic", nil)
	if res.StatusCode != 500 {
		t.Errorf("panic: %d", res.StatusCode)
	}
	res, _ = s.do(t, "GET", "/slow", nil)
	if res.StatusCode != 504 {
		t.Errorf("timeout: %d", res.StatusCode)
	}
	res, _ = s.do(t, "GET", "/nowhere", nil)
	if res.StatusCode != 404 {
		t.Errorf("chi 404: %d", res.StatusCode)
	}
	out := logs.String()
	for _, want := range []string{`"GET http://127.0.0.1`, "/items/42 HTTP/1.1\" from 127.0.0.1:", " - 200 ", " - 500 ", " - 504 ", "panic: boom"} {
		if !strings.Contains(out, want) {
			t.Errorf("chi log lacks %q:\n%s", want, out)
		}
	}
}

// TestPromhttp scrapes prometheus/client_golang's promhttp handler, plain
// and gzipped, after requests counted by a middleware.
func TestPromhttp(t *testing.T) {
	reg := prometheus.NewRegistry()
	hits := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bridge_hits_total", Help: "Requests served."}, []string{"code"})
	reg.MustRegister(hits, prometheus.NewGoCollector())
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/work", promhttp.InstrumentHandlerCounter(hits, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "done")
	})))
	s := startBridge(t, false, "/", mux)
	for i := 0; i < 3; i++ {
		s.do(t, "GET", "/work", nil)
	}
	res, b := s.do(t, "GET", "/metrics", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") ||
		!strings.Contains(string(b), `bridge_hits_total{code="200"} 3`) || !strings.Contains(string(b), "go_goroutines") {
		t.Errorf("metrics: %d %q\n%.300s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	res, b = s.do(t, "GET", "/metrics", nil, "Accept-Encoding", "gzip")
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("metrics gzip: %v", res.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !strings.Contains(string(plain), `bridge_hits_total{code="200"} 3`) {
		t.Errorf("gzipped metrics:\n%.300s", plain)
	}
	_ = fmt.Sprint
}
