package interop

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
)

// client returns a net/http client that uses at most one connection to the
// server, closed when the test ends.
func client(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: goClientTimeout}
}

// do sends one request and returns the response with its body read. reused
// reports whether net/http sent it on a connection it had used before.
func do(t *testing.T, c *http.Client, method, url string, body io.Reader, hdr http.Header) (resp *http.Response, data []byte, reused bool) {
	t.Helper()
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
	ctx := httptrace.WithClientTrace(context.Background(), trace)
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err = c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, data, reused
}

func TestNetHTTPHello(t *testing.T) {
	addr := startDemo(t)
	resp, body, _ := do(t, client(t), "GET", "http://"+addr+"/hello?query1=a&query2=b", nil, nil)
	if resp.StatusCode != 200 || string(body) != "Hello World!" {
		t.Errorf("GET /hello = %d %q; want 200 %q", resp.StatusCode, body, "Hello World!")
	}
	for k, want := range map[string]string{"Custom-Header-1": "Custom-Value-1", "Custom-Header-2": "Custom-Value-2"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("GET /hello header %s = %q; want %q", k, got, want)
		}
	}
	if resp.ContentLength != int64(len("Hello World!")) {
		t.Errorf("GET /hello Content-Length = %d; want %d", resp.ContentLength, len("Hello World!"))
	}
}

func TestNetHTTPEcho(t *testing.T) {
	addr := startDemo(t)
	c := client(t)
	cases := []struct {
		name    string
		method  string
		n       int
		sized   bool // whether the request carries Content-Length (else chunked)
		chunked bool // whether the reply must stream back chunked
	}{
		{"small POST", "POST", 100, true, false},
		{"small chunked PUT", "PUT", 1000, false, false},
		{"5MiB POST", "POST", 5 << 20, true, true},
		{"5MiB chunked POST", "POST", 5 << 20, false, true},
		{"5MiB chunked PUT", "PUT", 5 << 20, false, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload := randomBytes(tc.n, uint64(i))
			// A plain io.Reader hides the length from net/http: the
			// request goes out chunked, exercising the server's decoder.
			var body io.Reader = bytes.NewReader(payload)
			if !tc.sized {
				body = io.MultiReader(body)
			}
			resp, got, _ := do(t, c, tc.method, "http://"+addr+"/echo", body,
				http.Header{"Custom": {"interop-" + strings.ReplaceAll(tc.name, " ", "-")}})
			if resp.StatusCode != 200 {
				t.Fatalf("%s /echo = %d; want 200", tc.method, resp.StatusCode)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("%s /echo body = %d bytes; want the %d bytes sent", tc.method, len(got), len(payload))
			}
			if h, want := resp.Header.Get("Custom"), "interop-"+strings.ReplaceAll(tc.name, " ", "-"); h != want {
				t.Errorf("%s /echo Custom = %q; want %q", tc.method, h, want)
			}
			isChunked := len(resp.TransferEncoding) == 1 && resp.TransferEncoding[0] == "chunked"
			if isChunked != tc.chunked {
				t.Errorf("%s /echo Transfer-Encoding = %v; want chunked %v", tc.method, resp.TransferEncoding, tc.chunked)
			}
		})
	}
}

// TestNetHTTPAdder checks the per-session accumulator over one keep-alive
// connection: every request after the first must reuse it, and the sum must
// carry across them.
func TestNetHTTPAdder(t *testing.T) {
	addr := startDemo(t)
	c := client(t)
	url := "http://" + addr + "/adder"
	steps := []struct {
		method, body, want string
	}{
		{"PUT", "10", "10"},
		{"POST", "5", "15"},
		{"POST", "-3", "12"},
		{"GET", "", "12"},
		{"POST", "100", "112"},
		{"GET", "", "112"},
	}
	for i, s := range steps {
		var body io.Reader
		if s.body != "" {
			body = strings.NewReader(s.body)
		}
		resp, got, reused := do(t, c, s.method, url, body, nil)
		if resp.StatusCode != 200 || string(got) != s.want {
			t.Fatalf("step %d: %s /adder %q = %d %q; want 200 %q", i, s.method, s.body, resp.StatusCode, got, s.want)
		}
		if i > 0 && !reused {
			t.Fatalf("step %d: %s /adder went out on a new connection; want keep-alive reuse", i, s.method)
		}
	}

	// A new connection starts a new session with a fresh sum.
	resp, got, _ := do(t, client(t), "GET", url, nil, nil)
	if resp.StatusCode != 200 || string(got) != "0" {
		t.Errorf("GET /adder on a new connection = %d %q; want 200 %q", resp.StatusCode, got, "0")
	}

	// Garbage is refused without ending the keep-alive session.
	resp, _, _ = do(t, c, "POST", url, strings.NewReader("twelve"), nil)
	if resp.StatusCode != 400 {
		t.Errorf("POST /adder %q = %d; want 400", "twelve", resp.StatusCode)
	}
	resp, got, _ = do(t, c, "GET", url, nil, nil)
	if string(got) != "112" {
		t.Errorf("GET /adder after a 400 = %d %q; want 200 %q", resp.StatusCode, got, "112")
	}
}
