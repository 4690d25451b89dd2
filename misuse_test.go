package httpd

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
)

// TestRegisterMethodCase: a standard method spelt in another case never
// matches a request, so registering it is an error.
func TestRegisterMethodCase(t *testing.T) {
	srv := startTest(t, Config{})
	for _, m := range []string{"get", "Post", "dElEtE", "patch"} {
		err := srv.RegisterURIHandler(URIHandler{URI: "/x", Method: m, Handler: sendString("x")})
		if !errors.Is(err, ErrInvalidHandler) || !strings.Contains(err.Error(), strings.ToUpper(m)) {
			t.Errorf("Register(%q) = %v; want ErrInvalidHandler naming %q", m, err, strings.ToUpper(m))
		}
	}
	// A method of one's own, in any case, is a token like any other.
	mustRegister(t, srv, URIHandler{URI: "/x", Method: "brew", Handler: sendString("x")})
}

// TestReplyMisuse: out-of-range statuses, SetType after the head and
// SendErr's content type are reported or kept, never silently changed.
func TestReplyMisuse(t *testing.T) {
	srv := startTest(t, Config{})
	results := make(chan []error, 1)
	mustRegister(t, srv,
		URIHandler{URI: "/status", Method: "GET", Handler: func(r *Request) error {
			errs := []error{r.SetStatus(42), r.SetStatus(600), r.SetStatusText(1000, "x")}
			if err := r.SendString("body"); err != nil {
				return err
			}
			errs = append(errs, r.SetType("text/plain"), r.SetStatus(404))
			results <- errs
			return nil
		}},
		URIHandler{URI: "/errtype", Method: "GET", Handler: func(r *Request) error {
			_ = r.SetType("application/json")
			return r.SendErr(400, `{"error":"bad"}`)
		}},
	)
	rc := dial(t, srv)
	rc.write(req("GET", "/status"))
	if resp := rc.response("GET"); resp.StatusCode != 200 {
		t.Errorf("status %d; want 200 (the invalid codes were refused)", resp.StatusCode)
	}
	errs := <-results
	for i, want := range []error{ErrInvalidStatus, ErrInvalidStatus, ErrInvalidStatus, ErrHeadersSent, ErrHeadersSent} {
		if !errors.Is(errs[i], want) {
			t.Errorf("call %d = %v; want %v", i, errs[i], want)
		}
	}
	rc.write(req("GET", "/errtype"))
	resp := rc.response("GET")
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/json" || bodyOf(resp) != `{"error":"bad"}` {
		t.Errorf("SendErr = %d %q %q; want 400 with the type set by SetType", resp.StatusCode, resp.Header.Get("Content-Type"), bodyOf(resp))
	}
}

// recordLog keeps the records a logger received.
type recordLog struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *recordLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Clone())
	l.mu.Unlock()
	return nil
}
func (l *recordLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *recordLog) WithGroup(string) slog.Handler      { return l }

func (l *recordLog) warnings(msg string) []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []slog.Record
	for _, r := range l.recs {
		if r.Level == slog.LevelWarn && strings.Contains(r.Message, msg) {
			out = append(out, r)
		}
	}
	return out
}

// TestHandlerErrorLogged: a handler's error is logged at Warn with the
// session, method, URI and error, for loop and Blocking handlers, and a
// flood of them is rate-limited.
func TestHandlerErrorLogged(t *testing.T) {
	var logs recordLog
	srv := startTest(t, Config{Logger: slog.New(&logs)})
	boom := errors.New("boom")
	mustRegister(t, srv,
		URIHandler{URI: "/fail", Method: "GET", Handler: func(*Request) error { return boom }},
		URIHandler{URI: "/fail-blocking", Method: "POST", Blocking: true, Handler: func(*Request) error { return boom }},
	)
	for _, c := range []struct{ method, uri string }{{"GET", "/fail?q=1"}, {"POST", "/fail-blocking"}} {
		rc := dial(t, srv)
		rc.write(req(c.method, c.uri))
		if resp := rc.response(c.method); resp.StatusCode != 500 {
			t.Fatalf("%s %s = %d; want 500", c.method, c.uri, resp.StatusCode)
		}
		rc.closedByPeer(5e9)
	}
	ws := logs.warnings("handler returned an error")
	if len(ws) != 2 {
		t.Fatalf("%d warnings; want 2", len(ws))
	}
	for i, want := range []map[string]string{{"method": "GET", "uri": "/fail?q=1", "err": "boom"}, {"method": "POST", "uri": "/fail-blocking", "err": "boom"}} {
		got := map[string]string{}
		ws[i].Attrs(func(a slog.Attr) bool { got[a.Key] = a.Value.String(); return true })
		for k, v := range want {
			if got[k] != v {
				t.Errorf("warning %d: %s = %q; want %q (attrs %v)", i, k, got[k], v, got)
			}
		}
		if got["session"] == "" {
			t.Errorf("warning %d has no session", i)
		}
	}
	// A flood within one second logs at most errLogPerSecond lines.
	before := len(logs.warnings("handler returned an error"))
	for i := 0; i < 50; i++ {
		srv.handlerFailed(&Request{s: &Session{}, srv: srv}, boom)
	}
	if n := len(logs.warnings("handler returned an error")) - before; n > errLogPerSecond {
		t.Errorf("%d lines for 50 errors; want at most %d", n, errLogPerSecond)
	}
}

// TestEngineChatterStaysOut: a server logging at Debug gets its own lines,
// not gnet's debug and info lines (start-up banner and the like), unless
// the gnet options ask for them.
func TestEngineChatterStaysOut(t *testing.T) {
	if os.Getenv("EVHTTPD_ENGINE") != "" && os.Getenv("EVHTTPD_ENGINE") != "gnet" {
		t.Skip("gnet's logger")
	}
	var logs recordLog
	srv := startTest(t, Config{Logger: slog.New(&logs)})
	mustRegister(t, srv, URIHandler{URI: "/x", Method: "GET", Handler: sendString("x")})
	rc := dial(t, srv)
	rc.write(req("GET", "/x"))
	rc.response("GET")
	srv.Stop()
	logs.mu.Lock()
	defer logs.mu.Unlock()
	for _, r := range logs.recs {
		gnetLine := false
		r.Attrs(func(a slog.Attr) bool {
			gnetLine = gnetLine || a.Key == "component" && a.Value.String() == "gnet"
			return true
		})
		if gnetLine && r.Level < slog.LevelWarn {
			t.Errorf("gnet's %v line reached Config.Logger: %q", r.Level, r.Message)
		}
	}
}
