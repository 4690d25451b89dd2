//go:build !noevhttpd

package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestTLSPeersServePlaintext: the HTTPS peers answer GET /plaintext over TLS
// on a kept-alive connection.
func TestTLSPeersServePlaintext(t *testing.T) {
	for _, server := range []string{"evhttpd-tls", "nethttp-tls"} {
		t.Run(server, func(t *testing.T) {
			addr := freeAddr(t)
			stop, err := servers[server](config{addr: addr, loops: 1})
			if err != nil {
				t.Fatalf("start %s: %v", server, err)
			}
			defer stop()
			if err := waitListening(addr, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			for i := 0; i < 3; i++ {
				resp, err := cl.Get("https://" + addr + "/plaintext")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != hello || resp.TLS == nil {
					t.Fatalf("%s: %d %q (TLS %v)", server, resp.StatusCode, body, resp.TLS != nil)
				}
			}
		})
	}
}
