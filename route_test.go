package httpd

import (
	"bytes"
	"context"
	"io"
	"time"

	"errors"
	hc "github.com/evhttpd/httpd/codec/http"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

func TestMatchPatternTable(t *testing.T) {
	cases := []struct {
		tpl, path string
		ok        bool
		name, val string
	}{
		{"/", "/", true, "", ""},
		{"/", "/anything/at/all", true, "", ""},
		{"/{$}", "/", true, "", ""},
		{"/{$}", "/x", false, "", ""},
		{"/items", "/items", true, "", ""},
		{"/items", "/items/", false, "", ""},
		{"/items/", "/items", false, "", ""},
		{"/items/", "/items/", true, "", ""},
		{"/items/", "/items/a/b", true, "", ""},
		{"/items/{id}", "/items/42", true, "id", "42"},
		{"/items/{id}", "/items/", false, "", ""},
		{"/items/{id}", "/items/42/x", false, "", ""},
		{"/items/{id}/edit", "/items/7/edit", true, "id", "7"},
		{"/files/{path...}", "/files/a/b/c.txt", true, "path", "a/b/c.txt"},
		{"/files/{path...}", "/files/", true, "path", ""},
		{"/files/{path...}", "/files", false, "", ""},
		{"/docs/{$}", "/docs/", true, "", ""},
		{"/docs/{$}", "/docs/x", false, "", ""},
		{"/docs/{$}", "/docs", false, "", ""},
		{"/a/{x}/{y}", "/a/1/2", true, "y", "2"},
		{"/a/{x}/{y}", "/a/1/2", true, "x", "1"},
		{"/a/{x}/{y}", "/a/1/2", true, "z", ""},
		{"/a%2Fb", "/a%2Fb", true, "", ""}, // raw, as received
	}
	for _, c := range cases {
		if got := MatchPattern(c.tpl, c.path, -1); got != c.ok {
			t.Errorf("MatchPattern(%q, %q) = %v; want %v", c.tpl, c.path, got, c.ok)
		}
		if v, ok := matchPath(c.tpl, c.path, c.name); ok != c.ok || v != c.val {
			t.Errorf("matchPath(%q, %q, %q) = %q, %v; want %q, %v", c.tpl, c.path, c.name, v, ok, c.val, c.ok)
		}
	}
}

func TestComparePatterns(t *testing.T) {
	cases := []struct {
		a, b string
		rel  relation
	}{
		{"/items/new", "/items/{id}", relMore},
		{"/items/{id}", "/items/", relMore},
		{"/items/{id}", "/items/{x}", relEqual},
		{"/items/", "/items/{rest...}", relEqual},
		{"/items/{$}", "/items/", relMore},
		{"/items/{$}", "/items/{id}", relDisjoint},
		{"/items", "/items/", relDisjoint},
		{"/a/{x}", "/{y}/b", relConflict},
		{"/{x}/b", "/a/{y}", relConflict},
		{"/a/b", "/a/c", relDisjoint},
		{"/", "/anything", relLess},
		{"/files/{p...}", "/files/{d}/x", relLess},
		{"/a/{x}/c", "/a/b/{y}", relConflict},
	}
	for _, c := range cases {
		a, err := compilePattern(c.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := compilePattern(c.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := comparePatterns(a, b); got != c.rel {
			t.Errorf("comparePatterns(%q, %q) = %v; want %v", c.a, c.b, got, c.rel)
		}
		// The relation seen from the other side.
		want := c.rel
		switch want {
		case relMore:
			want = relLess
		case relLess:
			want = relMore
		}
		if got := comparePatterns(b, a); got != want {
			t.Errorf("comparePatterns(%q, %q) = %v; want %v", c.b, c.a, got, want)
		}
	}
}

func TestInvalidPatterns(t *testing.T) {
	for _, p := range []string{"items", "/a/{x", "/a/x{y}", "/{x}/{x}", "/{$}/a", "/{p...}/a", "/{1x}", "/{}"} {
		if _, err := compilePattern(p); !errors.Is(err, ErrInvalidPattern) {
			t.Errorf("compilePattern(%q) = %v; want ErrInvalidPattern", p, err)
		}
	}
}

// TestRoutingPrecedence registers overlapping patterns in random orders on
// a real server: the most specific always wins, PathValue reads the path,
// 405 lists the winning pattern's methods only, and conflicts are refused.
func TestRoutingPrecedence(t *testing.T) {
	patterns := []string{"/", "/items/", "/items/{id}", "/items/new", "/items/{id}/edit", "/files/{path...}", "/docs/{$}", "/docs/intro"}
	reply := func(name string) HandlerFunc {
		return func(r *Request) error {
			var b strings.Builder
			b.WriteString(name)
			r.PathValues(func(k, v string) { b.WriteString(" " + k + "=" + v) })
			return r.SendString(b.String())
		}
	}
	want := map[string]string{
		"/":               "/",
		"/other":          "/",
		"/items":          "/",
		"/items/":         "/items/",
		"/items/42":       "/items/{id} id=42",
		"/items/new":      "/items/new",
		"/items/42/edit":  "/items/{id}/edit id=42",
		"/items/42/x":     "/items/",
		"/files/a/b":      "/files/{path...} path=a/b",
		"/files/":         "/files/{path...} path=",
		"/docs/":          "/docs/{$}",
		"/docs/intro":     "/docs/intro",
		"/docs/other":     "/",
		"/items/a%2Fb":    "/items/{id} id=a%2Fb",
		"/items/42?x=1":   "/items/{id} id=42",
		"/files/x/y?z=%2": "/files/{path...} path=x/y",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 3; round++ {
		srv := startTest(t, Config{URIMatch: MatchPattern})
		order := append([]string(nil), patterns...)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, p := range order {
			mustRegister(t, srv, URIHandler{URI: p, Method: "GET", Handler: reply(p)})
		}
		mustRegister(t, srv, URIHandler{URI: "/items/{id}", Method: "DELETE", Handler: reply("delete")})
		rc := dial(t, srv)
		for path, w := range want {
			rc.write(req("GET", path))
			if got := bodyOf(rc.response("GET")); got != w {
				t.Errorf("order %v: GET %s = %q; want %q", order, path, got, w)
			}
		}
		rc.write(req("PUT", "/items/42", "Content-Length: 0"))
		res := rc.response("PUT")
		if res.StatusCode != 405 || res.Header.Get("Allow") != "DELETE, GET, HEAD" {
			t.Errorf("PUT /items/42: %d Allow %q", res.StatusCode, res.Header.Get("Allow"))
		}
		bodyOf(res)
		for _, bad := range []string{"/{a}/x", "/items/{other}", "/x/{y"} {
			err := srv.RegisterURIHandler(URIHandler{URI: bad, Method: "POST", Handler: reply(bad)})
			if !errors.Is(err, ErrPatternConflict) && !errors.Is(err, ErrInvalidPattern) {
				t.Errorf("register %q: %v; want a conflict or invalid pattern", bad, err)
			}
		}
		if err := srv.RegisterURIHandler(URIHandler{URI: "/items/{id}", Method: "GET", Handler: reply("again")}); !errors.Is(err, ErrHandlerExists) {
			t.Errorf("register GET /items/{id} twice: %v", err)
		}
		srv.Stop()
	}
}

// TestExactMatcherWarns: a URI with {, * or ? under the exact matcher is
// logged at registration.
func TestExactMatcherWarns(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := startTest(t, Config{Logger: log})
	mustRegister(t, srv,
		URIHandler{URI: "/items/{id}", Method: "GET", Handler: sendString("x")},
		URIHandler{URI: "/plain", Method: "GET", Handler: sendString("x")},
		URIHandler{URI: "/api/*", Method: "GET", Handler: sendString("x")},
	)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if strings.Count(out, "level=WARN") != 2 || !strings.Contains(out, "/items/{id}") || !strings.Contains(out, "/api/*") || strings.Contains(out, "/plain") {
		t.Errorf("log:\n%s", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestRequestLifecycle: r.Context for a loop handler ends with the
// session, r.Status and BytesSent report the reply, and OnRequestDone sees
// every request (handlers', Blocking ones', error replies) with AccessLog
// writing one record each.
func TestRequestLifecycle(t *testing.T) {
	var mu sync.Mutex
	var done []RequestDone
	var logBuf bytes.Buffer
	access := AccessLog(slog.New(slog.NewTextHandler(lockedWriter{&mu, &logBuf}, nil)), slog.LevelInfo)
	var ctxs []context.Context
	srv := startTest(t, Config{URIMatch: MatchPattern, OnRequestDone: func(d *RequestDone) {
		access(d)
		mu.Lock()
		c := *d
		c.URI = bytes.Clone(d.URI)
		done = append(done, c)
		mu.Unlock()
	}})
	mustRegister(t, srv,
		URIHandler{URI: "/loop/{id}", Method: "POST", Handler: func(r *Request) error {
			mu.Lock()
			ctxs = append(ctxs, r.Context())
			mu.Unlock()
			if r.Context().Err() != nil {
				t.Errorf("context of a live session: %v", r.Context().Err())
			}
			r.SetStatus(201)
			if err := r.SendString("created " + r.PathValue("id")); err != nil {
				return err
			}
			if r.Status() != 201 || r.BytesSent() != int64(len("created 7")) {
				t.Errorf("Status %d BytesSent %d", r.Status(), r.BytesSent())
			}
			return nil
		}},
		URIHandler{URI: "/block", Method: "PUT", Blocking: true, Handler: func(r *Request) error {
			n, err := io.Copy(r, r) // a Blocking handler's Request is an io.Reader and io.Writer
			if err != nil || n != 5 {
				t.Errorf("io.Copy = %d, %v", n, err)
			}
			return nil
		}},
	)
	rc := dial(t, srv)
	rc.write(req("POST", "/loop/7", "Content-Length: 3") + "abc")
	if res := rc.response("POST"); res.StatusCode != 201 || bodyOf(res) != "created 7" {
		t.Errorf("POST /loop/7: %d", res.StatusCode)
	}
	rc.write(req("PUT", "/block", "Content-Length: 5") + "hello")
	if res := rc.response("PUT"); bodyOf(res) != "hello" {
		t.Errorf("PUT /block echo wrong")
	}
	rc.write(req("GET", "/nowhere"))
	if res := rc.response("GET"); res.StatusCode != 404 {
		t.Errorf("GET /nowhere: %d", res.StatusCode)
	}
	rc.c.Close()
	waitFor(t, "session context cancelled", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ctxs) == 1 && ctxs[0].Err() == context.Canceled
	})
	mu.Lock()
	defer mu.Unlock()
	want := []RequestDone{
		{Method: "POST", URI: []byte("/loop/7"), Status: 201, BytesIn: 3, BytesOut: 9},
		{Method: "PUT", URI: []byte("/block"), Status: 200, BytesIn: 5, BytesOut: 5},
		{Method: "GET", URI: []byte("/nowhere"), Status: 404, BytesIn: 0, BytesOut: int64(len(hc.ErrorBody(404)))},
	}
	if len(done) != len(want) {
		t.Fatalf("OnRequestDone ran %d times; want %d", len(done), len(want))
	}
	for i, w := range want {
		d := done[i]
		if d.Method != w.Method || string(d.URI) != string(w.URI) || d.Status != w.Status || d.BytesIn != w.BytesIn || d.BytesOut != w.BytesOut || d.Duration <= 0 || d.Session == 0 {
			t.Errorf("request %d: %+v; want %+v", i, d, w)
		}
	}
	if n := strings.Count(logBuf.String(), "msg=request"); n != 3 || !strings.Contains(logBuf.String(), "uri=/loop/7 status=201") {
		t.Errorf("access log:\n%s", logBuf.String())
	}
}

// TestRouteCache: a loop remembers the last request it routed, and the
// memory never answers for another method, another target, or a handler
// table that a registration replaced, on one keep-alive connection.
func TestRouteCache(t *testing.T) {
	srv := startTest(t, Config{EventLoops: 1})
	mustRegister(t, srv,
		URIHandler{URI: "/a", Method: "GET", Handler: sendString("get a")},
		URIHandler{URI: "/a", Method: "POST", Handler: sendString("post a")},
		URIHandler{URI: "/b", Method: "GET", Handler: sendString("get b")})
	rc := dial(t, srv)
	step := func(method, target, want string) {
		t.Helper()
		rc.write(req(method, target))
		resp := rc.response(method)
		got := bodyOf(resp)
		if method == "HEAD" {
			got = resp.Status
		}
		if got != want {
			t.Fatalf("%s %s: %q; want %q", method, target, got, want)
		}
	}
	step("GET", "/a", "get a")
	step("GET", "/a", "get a")
	step("POST", "/a", "post a")
	step("GET", "/b", "get b")
	step("GET", "/a?x=1", "get a")
	step("GET", "http://test/a", "get a")
	step("HEAD", "/a", "200 OK")
	if err := srv.UnregisterURIHandler("/a", "GET"); err != nil {
		t.Fatal(err)
	}
	mustRegister(t, srv, URIHandler{URI: "/a", Method: "GET", Handler: sendString("new a")})
	step("GET", "/a", "new a")
	if err := srv.UnregisterURIHandler("/a", "GET"); err != nil {
		t.Fatal(err)
	}
	rc.write(req("GET", "/a"))
	if resp := rc.response("GET"); resp.StatusCode != 405 {
		t.Fatalf("GET /a after unregistering: %d; want 405", resp.StatusCode)
	}
	step("POST", "/a", "post a")
}
