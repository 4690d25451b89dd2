package httpd

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestConfigRejects: every out-of-range limit makes Start fail with
// ErrInvalidConfig, before anything is bound.
func TestConfigRejects(t *testing.T) {
	cases := map[string]Config{
		"EventLoops":          {EventLoops: -1},
		"EventLoops>1024":     {EventLoops: 1025},
		"BlockingWorkers":     {BlockingWorkers: -1},
		"MaxOpenSockets":      {MaxOpenSockets: -1},
		"MaxOpenSockets>2^22": {MaxOpenSockets: 1<<22 + 1},
		"MaxURIHandlers":      {MaxURIHandlers: -1},
		"MaxRespHeaders":      {MaxRespHeaders: -1},
		"MaxRequestLine":      {MaxRequestLine: 64<<10 + 1},
		"MaxHeaderBytes":      {MaxHeaderBytes: 60<<10 + 1},
		"MaxHeaders":          {MaxHeaders: 257},
		"MaxOutbound":         {MaxOutbound: -1},
		"HeaderTimeout":       {HeaderTimeout: -time.Second},
		"RecvWaitTimeout":     {RecvWaitTimeout: -time.Second},
		"SendWaitTimeout":     {SendWaitTimeout: -time.Second},
		"IdleTimeout":         {IdleTimeout: -time.Second},
		"LingerTimeout":       {LingerTimeout: -time.Second},
		"LRUGrace":            {LRUGrace: -time.Second},
		"TimerResolution":     {TimerResolution: -time.Millisecond},
		"TCPKeepAlive":        {TCPKeepAlive: -time.Second},
		"EnrollQueue":         {EnrollQueue: -1},
		"TLSHandshakeTimeout": {TLSHandshakeTimeout: -time.Second},
		"TLSHandshakeWorkers": {TLSHandshakeWorkers: -1},
		"TLSHandshakeQueue":   {TLSHandshakeQueue: -1},
		"TLS+NewTransport": {TLS: &tls.Config{}, NewTransport: func(*Session) (Transport, error) {
			return nil, errors.New("unused")
		}},
		"TLSMode":     {TLSMode: TLSInsecure + 1},
		"MaxBodySize": {MaxBodySize: -1},
		"MaxDrain":    {MaxDrain: -1},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			cfg.Addr = "127.0.0.1:0"
			srv, err := Start(cfg)
			if err == nil {
				srv.Stop()
				t.Fatalf("Start(%+v) succeeded; want ErrInvalidConfig", cfg)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Start: %v; want ErrInvalidConfig", err)
			}
		})
	}
}

// TestEnrollQueueOne: with at most one connection on its way into a loop,
// a burst of concurrent clients is still served in full.
func TestEnrollQueueOne(t *testing.T) {
	srv := startTest(t, Config{EventLoops: 2, EnrollQueue: 1})
	mustRegister(t, srv, URIHandler{URI: "/x", Method: "GET", Handler: sendString("ok")})
	const clients = 200
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := cl.Get("http://" + srv.Addr().String() + "/x")
			if err != nil {
				errs <- err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && string(b) != "ok" {
				err = fmt.Errorf("body %q", b)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
