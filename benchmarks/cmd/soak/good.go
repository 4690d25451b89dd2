package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// env is what clients and attackers need to reach the server.
type env struct {
	info        serveInfo
	roots       *x509.CertPool
	clientHello []byte // captured once, replayed by the TLS attackers
	bomb        []byte // the deflate bomb's compressed payload
	rec         *recorder
}

// goodLoad describes the good clients, for the report.
const goodLoad = "4 clients of keep-alive GET /hello (5 ms pause), 2 connections pipelining 8 GETs (10 ms), " +
	"2 clients of POST /echo with 256 KiB (20 ms), 4 WebSocket echo connections (permessage-deflate, 512 B text, " +
	"every 10th message \"Trigger async\" answered from queued work; 5 ms), 2 clients of keep-alive HTTPS GET (10 ms), " +
	"2 clients of HTTPS GET on a new connection each time (50 ms)"

// opTimeout bounds every good-client operation: slower counts as a failure.
const opTimeout = 5 * time.Second

const hello = "Hello World!"

// runGood runs the good clients until ctx ends. Every operation is timed
// and checked byte for byte; an operation still running when ctx ends is
// not counted.
func runGood(ctx context.Context, e *env) {
	var wg sync.WaitGroup
	spawn := func(n int, fn func()) {
		for range n {
			wg.Add(1)
			go func() { defer wg.Done(); fn() }()
		}
	}
	get := &http.Client{Timeout: opTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	tcfg := &tls.Config{RootCAs: e.roots}
	https := &http.Client{Timeout: opTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 2, TLSClientConfig: tcfg, DisableCompression: true}}
	fresh := &http.Client{Timeout: opTimeout, Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: tcfg, DisableCompression: true}}
	upload := &http.Client{Timeout: opTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 2, DisableCompression: true}}
	defer func() {
		for _, c := range []*http.Client{get, https, fresh, upload} {
			c.CloseIdleConnections()
		}
	}()

	spawn(4, func() {
		loopOp(ctx, e, "get", 5*time.Millisecond, func() error { return getHello(ctx, get, "http://"+e.info.Addr) })
	})
	spawn(2, func() { pipeliner(ctx, e) })
	spawn(2, func() { uploader(ctx, e, upload) })
	spawn(4, func() { wsEcho(ctx, e) })
	spawn(2, func() {
		loopOp(ctx, e, "https", 10*time.Millisecond, func() error { return getHello(ctx, https, "https://"+e.info.TLSAddr) })
	})
	spawn(2, func() {
		loopOp(ctx, e, "tls-new", 50*time.Millisecond, func() error { return getHello(ctx, fresh, "https://"+e.info.TLSAddr) })
	})
	wg.Wait()
}

// loopOp runs op every pause until ctx ends, recording each result.
func loopOp(ctx context.Context, e *env, kind string, pause time.Duration, op func() error) {
	for i := 0; i < maxIter && ctx.Err() == nil; i++ {
		start := time.Now()
		err := op()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			e.rec.fail(kind, err)
		} else {
			e.rec.ok(kind, time.Since(start))
		}
		sleep(ctx, pause)
	}
}

func getHello(ctx context.Context, c *http.Client, base string) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/hello", nil)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || string(b) != hello {
		return fmt.Errorf("GET /hello: %s %q", resp.Status, trim(b))
	}
	return nil
}

func trim(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}

// pipeliner keeps one connection and writes 8 GETs at a time before
// reading the 8 replies.
func pipeliner(ctx context.Context, e *env) {
	const depth = 8
	batch := bytes.Repeat([]byte("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), depth)
	var c net.Conn
	var br *bufio.Reader
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	loopOp(ctx, e, "pipe", 10*time.Millisecond, func() error {
		if c == nil {
			d := net.Dialer{Timeout: opTimeout}
			nc, err := d.DialContext(ctx, "tcp", e.info.Addr)
			if err != nil {
				return err
			}
			c, br = nc, bufio.NewReader(nc)
		}
		err := func() error {
			c.SetDeadline(time.Now().Add(opTimeout))
			if _, err := c.Write(batch); err != nil {
				return err
			}
			for i := range depth {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					return fmt.Errorf("pipelined reply %d: %w", i, err)
				}
				b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || string(b) != hello {
					return fmt.Errorf("pipelined reply %d: %s %q %v", i, resp.Status, trim(b), err)
				}
			}
			return nil
		}()
		if err != nil {
			c.Close()
			c = nil
		}
		return err
	})
}

// uploader posts 256 KiB to /echo and checks the echo.
func uploader(ctx context.Context, e *env, c *http.Client) {
	body := make([]byte, 256<<10)
	for i := range body {
		body[i] = byte(rand.IntN(256))
	}
	loopOp(ctx, e, "upload", 20*time.Millisecond, func() error {
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+e.info.Addr+"/echo", bytes.NewReader(body))
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 || !bytes.Equal(b, body) {
			return fmt.Errorf("POST /echo: %s, %d bytes back of %d", resp.Status, len(b), len(body))
		}
		return nil
	})
}

// wsEcho keeps a gorilla WebSocket connection with permessage-deflate and
// sends text messages for echo; every 10th is "Trigger async", answered
// "Async data" from queued work.
func wsEcho(ctx context.Context, e *env) {
	d := websocket.Dialer{
		HandshakeTimeout:  opTimeout,
		EnableCompression: true,
		NetDialContext:    (&net.Dialer{Timeout: opTimeout}).DialContext,
	}
	msg := []byte(`{"kind":"soak","text":"` + strings.Repeat("good client ", 40) + `"}`)[:512]
	var c *websocket.Conn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	n := 0
	loopOp(ctx, e, "ws", 5*time.Millisecond, func() error {
		if c == nil {
			wc, resp, err := d.DialContext(ctx, "ws://"+e.info.Addr+"/ws", nil)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
				wc.Close()
				return errors.New("ws: permessage-deflate not negotiated")
			}
			wc.EnableWriteCompression(true)
			c = wc
		}
		n++
		send, want := msg, msg
		if n%10 == 0 {
			send, want = []byte("Trigger async"), []byte("Async data")
		}
		err := func() error {
			c.SetWriteDeadline(time.Now().Add(opTimeout))
			c.SetReadDeadline(time.Now().Add(opTimeout))
			if err := c.WriteMessage(websocket.TextMessage, send); err != nil {
				return err
			}
			typ, got, err := c.ReadMessage()
			if err != nil {
				return err
			}
			if typ != websocket.TextMessage || !bytes.Equal(got, want) {
				return fmt.Errorf("ws: got %q, want %q", trim(got), trim(want))
			}
			return nil
		}()
		if err != nil {
			c.Close()
			c = nil
		}
		return err
	})
}
