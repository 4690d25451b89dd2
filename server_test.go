package httpd

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hc "github.com/evhttpd/httpd/codec/http"
)

// TestHelloNetHTTP is the ESP simple example's GET /hello, through Go's
// net/http client.
func TestHelloNetHTTP(t *testing.T) {
	srv := startTest(t, Config{})
	mustRegister(t, srv, URIHandler{URI: "/hello", Method: "GET", UserCtx: "Hello World!",
		Handler: func(r *Request) error {
			if v, ok := r.QueryValue("query1"); !ok || string(v) != "a%20b" {
				return r.SendErr(400, "query1 missing")
			}
			r.SetHeader("Custom-Header-1", "Custom-Value-1")
			r.SetHeader("Custom-Header-2", "Custom-Value-2")
			return r.SendString(r.UserCtx().(string))
		}})
	cl := &http.Client{Timeout: 5 * time.Second}
	defer cl.CloseIdleConnections()
	for i := 0; i < 3; i++ {
		resp, err := cl.Get("http://" + srv.Addr().String() + "/hello?query1=a%20b&query2=x")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "Hello World!" {
			t.Fatalf("GET /hello = %d %q; want 200 %q", resp.StatusCode, body, "Hello World!")
		}
		if got := resp.Header.Get("Custom-Header-1"); got != "Custom-Value-1" {
			t.Errorf("Custom-Header-1 = %q", got)
		}
		if got := resp.Header.Get("Content-Type"); got != "text/html" {
			t.Errorf("Content-Type = %q; want ESP's default text/html", got)
		}
		if resp.Header.Get("Date") == "" {
			t.Error("no Date header")
		}
	}
}

// TestAdderPersistentSessions ports ESP's persistent_sockets example: an
// accumulator lives in the session context and is freed when the
// connection closes.
func TestAdderPersistentSessions(t *testing.T) {
	var frees counter
	srv := startTest(t, Config{})
	ctxOf := func(r *Request) *int64 {
		if v, ok := r.SessCtx().(*int64); ok {
			return v
		}
		v := new(int64)
		r.SetSessCtx(v, frees.free)
		return v
	}
	num := func(r *Request) (int64, error) { return strconv.ParseInt(string(r.Body()), 10, 64) }
	mustRegister(t, srv,
		URIHandler{URI: "/adder", Method: "GET", Handler: func(r *Request) error {
			return r.SendString(strconv.FormatInt(*ctxOf(r), 10))
		}},
		URIHandler{URI: "/adder", Method: "PUT", Handler: func(r *Request) error {
			v, err := num(r)
			if err != nil {
				return r.SendErr(400, "")
			}
			*ctxOf(r) = v
			return r.SendString(strconv.FormatInt(v, 10))
		}},
		URIHandler{URI: "/adder", Method: "POST", Handler: func(r *Request) error {
			v, err := num(r)
			if err != nil {
				return r.SendErr(400, "")
			}
			p := ctxOf(r)
			*p += v
			return r.SendString(strconv.FormatInt(*p, 10))
		}},
	)
	post := func(rc *rawClient, method, body string) string {
		rc.write(fmt.Sprintf("%s /adder HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", method, len(body), body))
		return bodyOf(rc.response(method))
	}
	a, b := dial(t, srv), dial(t, srv)
	if got := post(a, "PUT", "10"); got != "10" {
		t.Fatalf("PUT 10 = %q", got)
	}
	for i := 1; i <= 5; i++ {
		post(a, "POST", strconv.Itoa(i))
		post(b, "POST", "100")
	}
	if got := post(a, "GET", ""); got != "25" {
		t.Errorf("session a sum = %s; want 25", got)
	}
	if got := post(b, "GET", ""); got != "500" {
		t.Errorf("session b sum = %s; want 500", got)
	}
	a.c.Close()
	waitFor(t, "free callback of session a", 5*time.Second, func() bool { return frees.n.Load() == 1 })
	b.c.Close()
	waitFor(t, "free callback of session b", 5*time.Second, func() bool { return frees.n.Load() == 2 })
	// A new connection starts from zero.
	c := dial(t, srv)
	if got := post(c, "GET", ""); got != "0" {
		t.Errorf("new session sum = %s; want 0", got)
	}
	srv.Stop()
	if n := frees.n.Load(); n != 3 {
		t.Errorf("free callbacks after Stop = %d; want 3", n)
	}
}

// TestErrorCodes covers the statuses the router produces (ESP advanced
// tests: basic routes and error codes).
func TestErrorCodes(t *testing.T) {
	srv := startTest(t, Config{})
	mustRegister(t, srv,
		URIHandler{URI: "/only-get", Method: "GET", Handler: sendString("ok")},
		URIHandler{URI: "/any", Method: MethodAny, Handler: func(r *Request) error { return r.SendString(r.Method()) }},
	)
	tests := []struct {
		name, in string
		status   int
		body     string
	}{
		{"found", req("GET", "/only-get"), 200, "ok"},
		{"404", req("GET", "/nope"), 404, hc.ErrorBody(404)},
		{"405", req("POST", "/only-get", "Content-Length: 0"), 405, hc.ErrorBody(405)},
		{"any method", req("DELETE", "/any"), 200, "DELETE"},
		{"any custom method", req("BREW", "/any"), 200, "BREW"},
		{"query not part of the match", req("GET", "/only-get?x=1"), 200, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := dial(t, srv)
			rc.write(tt.in)
			resp := rc.response("GET")
			if resp.StatusCode != tt.status || bodyOf(resp) != tt.body {
				t.Errorf("%q -> %d %q; want %d %q", tt.in, resp.StatusCode, bodyOf(resp), tt.status, tt.body)
			}
		})
	}
}

// TestUnknownMethod501: a token method no handler uses gets 501.
func TestUnknownMethod501(t *testing.T) {
	srv := startTest(t, Config{})
	mustRegister(t, srv, URIHandler{URI: "/x", Method: "GET", Handler: sendString("ok")})
	rc := dial(t, srv)
	rc.write(req("BREW", "/x"))
	if resp := rc.response("BREW"); resp.StatusCode != 501 {
		t.Errorf("BREW /x -> %d; want 501", resp.StatusCode)
	}
}

// TestRuntimeUnregisterAndCustom404 ports ESP's simple example: a handler
// unregistered at run time (here from inside a handler), and a custom 404.
func TestRuntimeUnregisterAndCustom404(t *testing.T) {
	srv := startTest(t, Config{})
	mustRegister(t, srv,
		URIHandler{URI: "/hello", Method: "GET", Handler: sendString("hi")},
		URIHandler{URI: "/ctrl", Method: "PUT", Handler: func(r *Request) error {
			switch string(r.Body()) {
			case "0":
				if err := r.Server().UnregisterURIHandler("/hello", "GET"); err != nil {
					return err
				}
			case "1":
				if err := r.Server().RegisterURIHandler(URIHandler{URI: "/hello", Method: "GET", Handler: sendString("hi")}); err != nil {
					return err
				}
			}
			return r.SendString("done")
		}},
	)
	srv.RegisterErrHandler(404, func(r *Request, status int) error {
		if string(r.Path()) == "/hello" {
			r.SetStatus(404)
			r.SendString("/hello URI is not available")
			return nil // keep the session
		}
		r.SetStatus(404)
		r.SendString("Some 404 error message")
		return errors.New("close it") // close the session
	})
	rc := dial(t, srv)
	put := func(v string) {
		rc.write("PUT /ctrl HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n" + v)
		if got := bodyOf(rc.response("PUT")); got != "done" {
			t.Fatalf("PUT /ctrl = %q", got)
		}
	}
	rc.write(req("GET", "/hello"))
	if got := bodyOf(rc.response("GET")); got != "hi" {
		t.Fatalf("GET /hello = %q", got)
	}
	put("0")
	rc.write(req("GET", "/hello"))
	resp := rc.response("GET")
	if resp.StatusCode != 404 || bodyOf(resp) != "/hello URI is not available" {
		t.Fatalf("after unregister: %d %q", resp.StatusCode, bodyOf(resp))
	}
	put("1")
	rc.write(req("GET", "/hello"))
	if got := bodyOf(rc.response("GET")); got != "hi" {
		t.Fatalf("after re-register: %q", got)
	}
	rc.write(req("GET", "/other"))
	resp = rc.response("GET")
	if bodyOf(resp) != "Some 404 error message" {
		t.Errorf("custom 404 that closes: %q", bodyOf(resp))
	}
	if !rc.closedByPeer(3 * time.Second) {
		t.Error("session not closed after the error handler returned an error")
	}
}

// TestRegistration covers duplicate detection through the matcher, the
// handler limit and unregistering.
func TestRegistration(t *testing.T) {
	srv := startTest(t, Config{MaxURIHandlers: 3, URIMatch: MatchWildcard})
	h := sendString("x")
	if err := srv.RegisterURIHandler(URIHandler{URI: "/api/*", Method: "GET", Handler: h}); err != nil {
		t.Fatal(err)
	}
	if err := srv.RegisterURIHandler(URIHandler{URI: "/api/x", Method: "GET", Handler: h}); !errors.Is(err, ErrHandlerExists) {
		t.Errorf("register /api/x under /api/* = %v; want ErrHandlerExists", err)
	}
	if err := srv.RegisterURIHandler(URIHandler{URI: "/api/x", Method: "POST", Handler: h}); err != nil {
		t.Errorf("other method: %v", err)
	}
	if err := srv.RegisterURIHandler(URIHandler{URI: "/b", Method: "GET", Handler: h}); err != nil {
		t.Fatal(err)
	}
	if err := srv.RegisterURIHandler(URIHandler{URI: "/c", Method: "GET", Handler: h}); !errors.Is(err, ErrHandlersFull) {
		t.Errorf("over the limit: %v; want ErrHandlersFull", err)
	}
	if err := srv.RegisterURIHandler(URIHandler{URI: "/d", Method: "G T", Handler: h}); !errors.Is(err, ErrInvalidHandler) {
		t.Errorf("bad method token: %v", err)
	}
	if err := srv.UnregisterURI("/api/x"); err != nil {
		t.Error(err)
	}
	if err := srv.UnregisterURIHandler("/b", "POST"); !errors.Is(err, ErrHandlerNotFound) {
		t.Errorf("unregister wrong method = %v", err)
	}
	if err := srv.UnregisterURIHandler("/b", "GET"); err != nil {
		t.Error(err)
	}
}

// TestWildcardRouting registers in insertion order with ESP's matcher.
func TestWildcardRouting(t *testing.T) {
	srv := startTest(t, Config{URIMatch: MatchWildcard})
	mustRegister(t, srv,
		URIHandler{URI: "/path/?*", Method: "GET", Handler: sendString("path")},
		URIHandler{URI: "*", Method: "GET", Handler: sendString("star")},
	)
	rc := dial(t, srv)
	for target, want := range map[string]string{"/path": "path", "/path/x/y": "path", "/pathx": "star", "/": "star"} {
		rc.write(req("GET", target))
		if got := bodyOf(rc.response("GET")); got != want {
			t.Errorf("GET %s = %q; want %q", target, got, want)
		}
	}
}

// TestPipelinedParallelSessions sends pipelined requests on several sessions
// at once (ESP advanced tests: parallel sessions with pipelining); every
// session gets its replies in order.
func TestPipelinedParallelSessions(t *testing.T) {
	srv := startTest(t, Config{})
	mustRegister(t, srv, URIHandler{URI: "/n", Method: MethodAny, Handler: func(r *Request) error {
		v, _ := r.QueryValue("i")
		return r.Send(append(append([]byte(nil), v...), r.Body()...))
	}})
	const sessions, depth = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for s := 0; s < sessions; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			rc := dial(t, srv)
			var all strings.Builder
			for i := 0; i < depth; i++ {
				if i%3 == 1 {
					fmt.Fprintf(&all, "POST /n?i=%d HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", i)
				} else {
					fmt.Fprintf(&all, "GET /n?i=%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
				}
			}
			go rc.writeSplit(all.String(), 7+s)
			for i := 0; i < depth; i++ {
				want := strconv.Itoa(i)
				if i%3 == 1 {
					want += "abc"
				}
				rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
				resp, err := http.ReadResponse(rc.br, nil)
				if err != nil {
					errs <- err
					return
				}
				b, _ := io.ReadAll(resp.Body)
				if string(b) != want {
					errs <- fmt.Errorf("session %d reply %d = %q; want %q", s, i, b, want)
					return
				}
			}
		}(s)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestReceiveTimeout408: a request whose body stalls gets ESP's 408 with its
// body, then the session closes.
func TestReceiveTimeout408(t *testing.T) {
	srv := startTest(t, Config{RecvWaitTimeout: 300 * time.Millisecond, TimerResolution: 10 * time.Millisecond})
	mustRegister(t, srv, URIHandler{URI: "/echo", Method: "POST", Handler: func(r *Request) error { return r.Send(r.Body()) }})
	rc := dial(t, srv)
	rc.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
	resp := rc.response("POST")
	if resp.StatusCode != 408 || bodyOf(resp) != hc.ErrorBody(408) || !resp.Close {
		t.Fatalf("stalled body -> %d %q close=%v; want 408 %q close", resp.StatusCode, bodyOf(resp), resp.Close, hc.ErrorBody(408))
	}
	if !rc.closedByPeer(5 * time.Second) {
		t.Error("session not closed after 408")
	}
}

// TestArbitraryLineTerminations: bare LF line ends in the head are accepted
// (ESP advanced tests).
func TestArbitraryLineTerminations(t *testing.T) {
	srv := startTest(t, Config{})
	mustRegister(t, srv, URIHandler{URI: "/h", Method: "GET", Handler: func(r *Request) error {
		return r.Send(r.Header("X-A"))
	}})
	rc := dial(t, srv)
	for _, in := range []string{
		"GET /h HTTP/1.1\nHost: x\nX-A: lf\n\n",
		"GET /h HTTP/1.1\r\nHost: x\nX-A: mixed\r\n\n",
		"GET /h HTTP/1.1\nHost: x\r\nX-A: mixed2\n\r\n",
	} {
		rc.write(in)
		resp := rc.response("GET")
		if resp.StatusCode != 200 {
			t.Errorf("%q -> %d", in, resp.StatusCode)
		}
	}
}

// TestLeftoverData: a blocking handler that reads part of the body leaves
// the rest, which the server skips: the next request on the session works
// and the leftover is never parsed as a request (ESP advanced tests).
func TestLeftoverData(t *testing.T) {
	srv := startTest(t, Config{})
	mustRegister(t, srv,
		URIHandler{URI: "/leftover", Method: "POST", Blocking: true, Handler: func(r *Request) error {
			buf := make([]byte, 5)
			n, err := r.Recv(buf)
			if err != nil && err != io.EOF {
				return err
			}
			return r.Send(buf[:n])
		}},
		URIHandler{URI: "/hello", Method: "GET", Handler: sendString("hello")},
	)
	rc := dial(t, srv)
	body := "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n" // must never be parsed as a request
	rc.write(fmt.Sprintf("POST /leftover HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
	if got := bodyOf(rc.response("POST")); got != body[:5] {
		t.Fatalf("leftover reply = %q", got)
	}
	rc.write(req("GET", "/hello"))
	if got := bodyOf(rc.response("GET")); got != "hello" {
		t.Fatalf("next request = %q", got)
	}
	rc.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if b, err := rc.br.ReadByte(); err == nil {
		t.Fatalf("extra reply byte %q: the leftover body was parsed as a request", b)
	}
}

// TestBlockingStreamingEcho: a blocking handler streams a large body with
// Recv and answers chunked.
func TestBlockingStreamingEcho(t *testing.T) {
	srv := startTest(t, Config{})
	mustRegister(t, srv, URIHandler{URI: "/echo", Method: "POST", Blocking: true, MaxBodySize: 64 << 20,
		Handler: func(r *Request) error {
			buf := make([]byte, 10000)
			for {
				n, err := r.Recv(buf)
				if n > 0 {
					if err := r.SendChunk(buf[:n]); err != nil {
						return err
					}
				}
				if err == io.EOF {
					return r.SendChunk(nil)
				}
				if err != nil {
					return err
				}
			}
		}})
	payload := strings.Repeat("0123456789abcdef", 3<<16) // 3 MiB
	for _, chunked := range []bool{false, true} {
		rc := dial(t, srv)
		if chunked {
			var b strings.Builder
			b.WriteString("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
			for i := 0; i < len(payload); i += 70000 {
				j := min(i+70000, len(payload))
				fmt.Fprintf(&b, "%x\r\n%s\r\n", j-i, payload[i:j])
			}
			b.WriteString("0\r\n\r\n")
			go rc.writeSplit(b.String(), 100000)
		} else {
			go rc.writeSplit(fmt.Sprintf("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(payload), payload), 100000)
		}
		resp := rc.response("POST")
		if got := bodyOf(resp); got != payload {
			t.Fatalf("chunked=%v: echo of %d bytes returned %d bytes (status %d)", chunked, len(payload), len(got), resp.StatusCode)
		}
		rc.write(req("POST", "/echo", "Content-Length: 2") + "ok")
		if got := bodyOf(rc.response("POST")); got != "ok" {
			t.Fatalf("next request on the session = %q", got)
		}
	}
}
