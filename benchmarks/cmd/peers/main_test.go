package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// checkReply checks one plaintext reply the way every peer must send it.
func checkReply(t *testing.T, server string, resp *http.Response) {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s: reading body: %v", server, err)
	}
	if resp.StatusCode != 200 || string(body) != hello {
		t.Errorf("%s: GET /plaintext = %d %q; want 200 %q", server, resp.StatusCode, body, hello)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
		t.Errorf("%s: Content-Type = %q; want %q", server, ct, "text/plain")
	}
	if resp.ContentLength != int64(len(hello)) {
		t.Errorf("%s: Content-Length = %d; want %d", server, resp.ContentLength, len(hello))
	}
	if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Errorf("%s: Date = %q; want an HTTP date (%v)", server, resp.Header.Get("Date"), err)
	}
	if resp.Header.Get("Server") == "" {
		t.Errorf("%s: no Server header", server)
	}
}

func TestPeersServePlaintext(t *testing.T) {
	const pipelined = 16
	// evhttpd is registered unless built with -tags noevhttpd.
	for _, server := range strings.Split(names(), ", ") {
		if strings.HasPrefix(server, "ws-") || strings.HasSuffix(server, "-tls") {
			continue // WebSocket and HTTPS peers have tests of their own
		}
		t.Run(server, func(t *testing.T) {
			skipRacyPeer(t, server)
			addr := freeAddr(t)
			stop, err := servers[server](config{addr: addr, loops: 1})
			if err != nil {
				t.Fatalf("start %s: %v", server, err)
			}
			stopped := false
			defer func() {
				if !stopped {
					stop()
				}
			}()
			if err := waitListening(addr, 5*time.Second); err != nil {
				t.Fatal(err)
			}

			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			resp, err := client.Get("http://" + addr + "/plaintext")
			if err != nil {
				t.Fatalf("%s: GET /plaintext: %v", server, err)
			}
			checkReply(t, server, resp)

			// Pipelined, as pipeline.lua sends them: 16 requests in one write.
			conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			req := "GET /plaintext HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"
			if _, err := io.WriteString(conn, strings.Repeat(req, pipelined)); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			for i := range pipelined {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("%s: pipelined reply %d: %v", server, i, err)
				}
				checkReply(t, server, resp)
			}
			conn.Close()

			stopped = true
			if err := stop(); err != nil {
				t.Errorf("%s: stop = %v; want nil", server, err)
			}
		})
	}
}

func TestPeersRegistered(t *testing.T) {
	for _, name := range []string{"gnet-raw", "fasthttp", "nethttp", "nbio",
		"ws-gws", "ws-gorilla", "ws-coder", "ws-gobwas", "ws-nbio"} {
		if servers[name] == nil {
			t.Errorf("server %q not registered (have %s)", name, names())
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	if err := run("nope", config{addr: "127.0.0.1:0", loops: 1}, 0); err == nil {
		t.Errorf("run(unknown server) = nil; want an error")
	}
	if err := run("gnet-raw", config{addr: "127.0.0.1:0", loops: 0}, 0); err == nil {
		t.Errorf("run(-loops 0) = nil; want an error")
	}
}
