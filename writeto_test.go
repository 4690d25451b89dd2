package httpd

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
)

// failAfter is a writer that takes n bytes, then fails (or, short, takes
// part of a write without an error).
type failAfter struct {
	n     int
	short bool
}

var errSink = errors.New("sink full")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return len(p), nil
	}
	k := f.n
	f.n = 0
	if f.short {
		return k, nil
	}
	return k, errSink
}

// TestRequestWriteTo: Request.WriteTo (what io.Copy(w, r) uses) writes the
// whole body to w, byte for byte, for a body the loop prebuffered and lent
// to the worker, one larger than the prebuffer that streams through the
// pipe after it, a chunked one, and a loop handler's; a writer that fails
// or takes less ends it with its error (io.ErrShortWrite) and the count
// written, and the session still answers.
func TestRequestWriteTo(t *testing.T) {
	srv := startTest(t, Config{EventLoops: 1, MaxBodySize: 8 << 20})
	h := func(r *Request) error {
		mode, _ := r.QueryValue("w")
		switch string(mode) {
		case "fail", "short":
			f := &failAfter{n: 1000, short: string(mode) == "short"}
			n, err := r.WriteTo(f)
			return r.SendString(fmt.Sprintf("%d %v", n, err))
		}
		sum := sha256.New()
		n, err := r.WriteTo(sum)
		if err != nil {
			return r.SendString("error " + err.Error())
		}
		return r.SendString(fmt.Sprintf("%d %x", n, sum.Sum(nil)))
	}
	mustRegister(t, srv, URIHandler{URI: "/b", Method: "POST", Blocking: true, Handler: h},
		URIHandler{URI: "/l", Method: "POST", Handler: h})
	body := func(n int) string {
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			b.WriteString(strconv.Itoa(i))
			b.WriteByte(' ')
		}
		return b.String()[:n]
	}
	want := func(s string) string { return fmt.Sprintf("%d %x", len(s), sha256.Sum256([]byte(s))) }
	c := dial(t, srv)
	for _, tc := range []struct {
		name, path, body string
		chunked          bool
		want             string
	}{
		{"prebuffered", "/b", body(300 << 10), false, ""},
		{"beyond the prebuffer", "/b", body(3 << 20), false, ""},
		{"chunked", "/b", body(200 << 10), true, ""},
		{"empty", "/b", "", false, ""},
		{"loop handler", "/l", body(10 << 10), false, ""},
		{"failing writer", "/b?w=fail", body(300 << 10), false, "1000 " + errSink.Error()},
		{"short writer", "/b?w=short", body(5000), false, "1000 " + io.ErrShortWrite.Error()},
		{"failing writer, loop", "/l?w=fail", body(5000), false, "1000 " + errSink.Error()},
	} {
		w := tc.want
		if w == "" {
			w = want(tc.body)
		}
		if tc.chunked {
			var b strings.Builder
			for s := tc.body; len(s) > 0; {
				k := min(len(s), 7000)
				fmt.Fprintf(&b, "%x\r\n%s\r\n", k, s[:k])
				s = s[k:]
			}
			b.WriteString("0\r\n\r\n")
			c.write(req("POST", tc.path, "Transfer-Encoding: chunked") + b.String())
		} else {
			c.write(req("POST", tc.path, "Content-Length: "+strconv.Itoa(len(tc.body))) + tc.body)
		}
		resp := c.response("POST")
		if got := bodyOf(resp); resp.StatusCode != 200 || got != w {
			t.Fatalf("%s: %d %q; want 200 %q", tc.name, resp.StatusCode, got, w)
		}
		if resp.Close {
			c = dial(t, srv) // an unread rest past MaxDrain ends the session
		}
	}
}
