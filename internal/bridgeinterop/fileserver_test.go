package bridgeinterop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fileTree makes a served directory pub/ (hello.txt, sub/inner.txt) and
// a secret.txt beside it that must never be served.
func fileTree(t *testing.T) (pub string, hello []byte) {
	dir := t.TempDir()
	pub = filepath.Join(dir, "pub")
	if err := os.MkdirAll(filepath.Join(pub, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	hello = bytes.Repeat([]byte("hello, file server\n"), 527)[:10000]
	for name, data := range map[string][]byte{
		filepath.Join(pub, "hello.txt"):        hello,
		filepath.Join(pub, "sub", "inner.txt"): []byte("inner"),
		filepath.Join(dir, "secret.txt"):       []byte("TOP SECRET"),
	} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return pub, hello
}

// etag gives every reply an ETag, so that http.ServeContent (behind
// FileServer) answers If-None-Match.
func etag(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		h.ServeHTTP(w, r)
	})
}

// TestFileServer serves a directory with http.FileServer through the
// bridge: whole files, Range and multi-range, conditional requests, HEAD,
// the directory redirect and listing, and path traversal refused.
func TestFileServer(t *testing.T) {
	pub, hello := fileTree(t)
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", secure), func(t *testing.T) {
			s := startBridge(t, secure, "/static/", http.StripPrefix("/static", etag(http.FileServer(http.Dir(pub)))))

			res, b := s.do(t, "GET", "/static/hello.txt", nil)
			if res.StatusCode != 200 || !bytes.Equal(b, hello) || res.ContentLength != int64(len(hello)) ||
				res.Header.Get("Content-Type") != "text/plain; charset=utf-8" || res.Header.Get("Accept-Ranges") != "bytes" {
				t.Fatalf("GET hello.txt: %d, %d bytes, %v", res.StatusCode, len(b), res.Header)
			}
			lastMod := res.Header.Get("Last-Modified")
			if lastMod == "" {
				t.Fatal("no Last-Modified")
			}

			res, b = s.do(t, "GET", "/static/hello.txt", nil, "Range", "bytes=0-9")
			if res.StatusCode != 206 || string(b) != string(hello[:10]) || res.Header.Get("Content-Range") != "bytes 0-9/10000" {
				t.Errorf("Range: %d %q %q", res.StatusCode, b, res.Header.Get("Content-Range"))
			}

			res, b = s.do(t, "GET", "/static/hello.txt", nil, "Range", "bytes=0-1,9990-9999")
			mt, params, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
			if res.StatusCode != 206 || mt != "multipart/byteranges" {
				t.Fatalf("multi-range: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
			}
			mr := multipart.NewReader(bytes.NewReader(b), params["boundary"])
			var parts []string
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				pb, _ := io.ReadAll(p)
				parts = append(parts, p.Header.Get("Content-Range")+"="+string(pb))
			}
			if want := []string{"bytes 0-1/10000=he", "bytes 9990-9999/10000=" + string(hello[9990:])}; fmt.Sprint(parts) != fmt.Sprint(want) {
				t.Errorf("parts %q; want %q", parts, want)
			}

			res, b = s.do(t, "GET", "/static/hello.txt", nil, "If-Modified-Since", lastMod)
			if res.StatusCode != 304 || len(b) != 0 {
				t.Errorf("If-Modified-Since: %d, %d bytes", res.StatusCode, len(b))
			}
			res, b = s.do(t, "GET", "/static/hello.txt", nil, "If-None-Match", `"v1"`)
			if res.StatusCode != 304 || len(b) != 0 || res.Header.Get("ETag") != `"v1"` {
				t.Errorf("If-None-Match: %d, %d bytes", res.StatusCode, len(b))
			}
			res, _ = s.do(t, "GET", "/static/hello.txt", nil, "If-None-Match", `"v0"`)
			if res.StatusCode != 200 {
				t.Errorf("If-None-Match (other tag): %d", res.StatusCode)
			}

			res, b = s.do(t, "HEAD", "/static/hello.txt", nil)
			if res.StatusCode != 200 || len(b) != 0 || res.ContentLength != int64(len(hello)) {
				t.Errorf("HEAD: %d, %d bytes, Content-Length %d", res.StatusCode, len(b), res.ContentLength)
			}

			res, _ = s.do(t, "GET", "/static/sub", nil)
			if res.StatusCode != 301 || res.Header.Get("Location") != "sub/" {
				t.Errorf("directory redirect: %d %q", res.StatusCode, res.Header.Get("Location"))
			}
			res, b = s.do(t, "GET", "/static/sub/", nil)
			if res.StatusCode != 200 || !strings.Contains(string(b), `<a href="inner.txt">inner.txt</a>`) {
				t.Errorf("listing: %d %s", res.StatusCode, b)
			}
			res, b = s.do(t, "GET", "/static/", nil)
			if res.StatusCode != 200 || !strings.Contains(string(b), "hello.txt") || !strings.Contains(string(b), "sub/") {
				t.Errorf("root listing: %d %s", res.StatusCode, b)
			}
		})
	}
}

// TestFileServerTraversal sends targets that climb out of the served
// directory, raw (no client cleans them): none may reach secret.txt.
func TestFileServerTraversal(t *testing.T) {
	pub, _ := fileTree(t)
	s := startBridge(t, false, "/static/", http.StripPrefix("/static", http.FileServer(http.Dir(pub))))
	for _, target := range []string{
		"/static/../secret.txt",
		"/static/..%2fsecret.txt",
		"/static/%2e%2e/secret.txt",
		"/static/sub/../../secret.txt",
		"/static/..\\secret.txt",
	} {
		c, err := net.Dial("tcp", s.srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		b, _ := io.ReadAll(res.Body)
		c.Close()
		if res.StatusCode == 200 || strings.Contains(string(b), "TOP SECRET") {
			t.Errorf("GET %s: %d %q", target, res.StatusCode, b)
		}
	}
}

// TestFileServerCurl fetches with curl: a range, a HEAD, an HTTP/1.0
// request, and a traversal curl sends as written (--path-as-is).
func TestFileServerCurl(t *testing.T) {
	curl := needCommand(t, "curl")
	pub, hello := fileTree(t)
	s := startBridge(t, false, "/static/", http.StripPrefix("/static", http.FileServer(http.Dir(pub))))
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, curl, append([]string{"-sS"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		return string(out)
	}
	if got := run("-r", "10-19", s.base+"/static/hello.txt"); got != string(hello[10:20]) {
		t.Errorf("curl -r: %q", got)
	}
	if got := run("-I", s.base+"/static/hello.txt"); !strings.Contains(got, "Content-Length: 10000") || !strings.HasPrefix(got, "HTTP/1.1 200") {
		t.Errorf("curl -I:\n%s", got)
	}
	if got := run("-0", s.base+"/static/hello.txt"); got != string(hello) {
		t.Errorf("curl -0: %d bytes", len(got))
	}
	if got := run("--path-as-is", "-w", "%{http_code}", s.base+"/static/../secret.txt"); strings.Contains(got, "SECRET") || strings.HasSuffix(got, "200") {
		t.Errorf("curl traversal: %q", got)
	}
}
