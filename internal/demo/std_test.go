package demo

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	httpd "github.com/evhttpd/httpd"
)

// TestStdRoutes drives the demo's net/http side with Go's client: the JSON
// items API (list, get, put, delete, gzip), the static files (listing,
// Range) and pprof on loopback.
func TestStdRoutes(t *testing.T) {
	logs := &syncWriter{w: new(bytes.Buffer)}
	log := slog.New(slog.NewTextHandler(logs, nil))
	srv, err := Start(httpd.Config{Addr: "127.0.0.1:0", EventLoops: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, log)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DisableCompression: true}
	cl := &http.Client{Transport: tr}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Stop()
	})
	base := "http://" + srv.Addr().String()
	do := func(method, path, body string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := cl.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(b)
	}

	res, b := do("GET", "/std/items", "")
	var list []Item
	if err := json.Unmarshal([]byte(b), &list); err != nil || res.Header.Get("Content-Type") != "application/json" || len(list) != 2 {
		t.Fatalf("list: %d %q %v", res.StatusCode, b, err)
	}
	if res, _ = do("PUT", "/std/items/7", `{"name":"seventh","count":7}`); res.StatusCode != 201 {
		t.Errorf("PUT new: %d", res.StatusCode)
	}
	if res, _ = do("PUT", "/std/items/7", `{"name":"seventh","count":8}`); res.StatusCode != 200 {
		t.Errorf("PUT again: %d", res.StatusCode)
	}
	res, b = do("GET", "/std/items/7", "")
	var it Item
	if json.Unmarshal([]byte(b), &it); it != (Item{ID: "7", Name: "seventh", Count: 8}) {
		t.Errorf("GET 7: %d %q", res.StatusCode, b)
	}
	if res, _ = do("PUT", "/std/items/8", `{bad json`); res.StatusCode != 400 {
		t.Errorf("PUT bad JSON: %d", res.StatusCode)
	}
	if res, _ = do("DELETE", "/std/items/7", ""); res.StatusCode != 204 {
		t.Errorf("DELETE: %d", res.StatusCode)
	}
	if res, _ = do("GET", "/std/items/7", ""); res.StatusCode != 404 {
		t.Errorf("GET deleted: %d", res.StatusCode)
	}
	if res, _ = do("POST", "/std/items", ""); res.StatusCode != 405 {
		t.Errorf("POST list: %d", res.StatusCode)
	}
	// Enough items that the list is worth compressing.
	for i := 100; i < 200; i++ {
		do("PUT", "/std/items/"+itoa(i), `{"name":"an item with a longer name","count":1}`)
	}
	res, b = do("GET", "/std/items", "", "Accept-Encoding", "gzip")
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: %v", res.Header)
	}
	zr, err := gzip.NewReader(strings.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if err := json.Unmarshal(plain, &list); err != nil || len(list) != 102 || list[0].ID != "1" {
		t.Errorf("gzipped list: %d items, %v", len(list), err)
	}
	if !strings.Contains(logs.String(), "uri=/std/items/7 status=204") {
		t.Errorf("access log:\n%.500s", logs.String())
	}

	res, b = do("GET", "/static/", "")
	if res.StatusCode != 200 || !strings.Contains(b, "alphabet.txt") || !strings.Contains(b, "notes/") {
		t.Errorf("static listing: %d %q", res.StatusCode, b)
	}
	res, b = do("GET", "/static/alphabet.txt", "", "Range", "bytes=0-9")
	if res.StatusCode != 206 || b != "0000 aaaaa" {
		t.Errorf("static range: %d %q", res.StatusCode, b)
	}
	res, b = do("GET", "/debug/pprof/", "")
	if res.StatusCode != 200 || !strings.Contains(b, "goroutine") {
		t.Errorf("pprof: %d", res.StatusCode)
	}
	// The ESP routes are untouched.
	if res, b = do("GET", "/hello", ""); b != "Hello World!" {
		t.Errorf("/hello: %d %q", res.StatusCode, b)
	}
	if res, _ = do("GET", "/nowhere", ""); res.StatusCode != 404 {
		t.Errorf("/nowhere: %d", res.StatusCode)
	}
}

func itoa(i int) string {
	return string(rune('0'+i/100)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}
