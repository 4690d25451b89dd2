package demo

// This file holds the demo's net/http side, mounted through the bridge
// (package nethttp): a JSON items API on a ServeMux behind gzip and an
// access log (/std/), http.FileServer over the embedded sample files
// (/static/), and net/http/pprof (/debug/pprof/, loopback only).

import (
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"strconv"
	"sync"
	"time"

	httpd "github.com/evhttpd/httpd"
	"github.com/evhttpd/httpd/nethttp"
	"github.com/klauspost/compress/gzhttp"
)

//go:embed static
var staticFiles embed.FS

// registerStd mounts the net/http routes. pprof only when the server
// listens on loopback: a profile endpoint is not for the world.
func registerStd(srv *httpd.Server, log *slog.Logger) error {
	if err := nethttp.Mount(srv, httpd.URIHandler{URI: "/std/*"}, StdHandler(log)); err != nil {
		return err
	}
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return err
	}
	static := http.StripPrefix("/static", http.FileServerFS(sub))
	if err := nethttp.Mount(srv, httpd.URIHandler{URI: "/static/*", Method: "GET"}, static); err != nil {
		return err
	}
	if a, ok := srv.Addr().(*net.TCPAddr); ok && a.IP.IsLoopback() {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		if err := nethttp.Mount(srv, httpd.URIHandler{URI: "/debug/pprof/*"}, mux); err != nil {
			return err
		}
	}
	return nil
}

// Item is one entry of the /std/items API.
type Item struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// items is the API's store.
type items struct {
	mu sync.Mutex
	m  map[string]Item
}

// maxItems bounds the store: PUT of a new item beyond it gets 507.
const maxItems = 1000

// StdHandler returns the /std/ route tree: a ServeMux with
// GET /std/items (the list, as application/json), GET, PUT and DELETE
// /std/items/{id}, wrapped in gzip (klauspost/compress's gzhttp) and an
// access log at Info.
func StdHandler(log *slog.Logger) http.Handler {
	st := &items{m: map[string]Item{
		"1": {ID: "1", Name: "first", Count: 1},
		"2": {ID: "2", Name: "second", Count: 2},
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /std/items", func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		list := make([]Item, 0, len(st.m))
		for _, it := range st.m {
			list = append(list, it)
		}
		st.mu.Unlock()
		slices.SortFunc(list, func(a, b Item) int { return cmpID(a.ID, b.ID) })
		writeJSON(w, http.StatusOK, list)
	})
	mux.HandleFunc("GET /std/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		it, ok := st.m[r.PathValue("id")]
		st.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such item"})
			return
		}
		writeJSON(w, http.StatusOK, it)
	})
	mux.HandleFunc("PUT /std/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		var it Item
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&it); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		it.ID = r.PathValue("id")
		st.mu.Lock()
		_, existed := st.m[it.ID]
		full := !existed && len(st.m) >= maxItems
		if !full {
			st.m[it.ID] = it
		}
		st.mu.Unlock()
		switch {
		case full:
			writeJSON(w, http.StatusInsufficientStorage, map[string]string{"error": "store full"})
		case existed:
			writeJSON(w, http.StatusOK, it)
		default:
			writeJSON(w, http.StatusCreated, it)
		}
	})
	mux.HandleFunc("DELETE /std/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		_, ok := st.m[r.PathValue("id")]
		delete(st.m, r.PathValue("id"))
		st.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such item"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return accessLog(log, gzhttp.GzipHandler(mux))
}

// cmpID orders numeric IDs by value, others after them by text.
func cmpID(a, b string) int {
	na, ea := strconv.Atoi(a)
	nb, eb := strconv.Atoi(b)
	switch {
	case ea == nil && eb == nil:
		return na - nb
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// statusRecorder remembers the status a handler chose, for accessLog.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the bridge's writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush keeps streaming replies streaming through the recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// accessLog is the middleware form of an access log, as a net/http
// application brings its own (httpd.AccessLog does the same server-wide
// through Config.OnRequestDone).
func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		log.Info("std", "method", r.Method, "uri", r.RequestURI, "status", rec.status, "bytes", rec.bytes,
			"duration", time.Since(start), "remote", r.RemoteAddr)
	})
}
