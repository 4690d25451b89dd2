package httpd

import (
	"errors"
	"os"
	"testing"

	"github.com/evhttpd/httpd/engine/gnet"
	"github.com/evhttpd/httpd/engine/netpoll"
)

// EVHTTPD_ENGINE runs the whole suite on another engine backend (every
// Start without Config.Engine uses it): EVHTTPD_ENGINE=netpoll go test .
func init() {
	v := os.Getenv("EVHTTPD_ENGINE")
	if v == "" {
		return
	}
	defaultEngine = v
	if v == netpoll.Name {
		// netpoll's pollers live as long as the process; start them
		// before any test takes its goroutine and descriptor baseline.
		netpoll.StartPollers()
	}
}

// TestEngineConfigErrors: what an engine rejects is ErrInvalidConfig too,
// like the server's own limits: more loops than the engine runs (gnet
// indexes 256, the server allows 1024), an engine no package registered,
// options of the wrong type, EnrollQueue given twice with different values.
// (Each case builds the server's loops first: 257 of them is enough.)
func TestEngineConfigErrors(t *testing.T) {
	cases := map[string]Config{
		"gnet EventLoops 257":     {Engine: gnet.Name, EventLoops: gnet.MaxLoops + 1},
		"unknown engine":          {Engine: "no such engine"},
		"options of another type": {Engine: gnet.Name, EngineOptions: struct{}{}},
		"gnet options by value":   {Engine: gnet.Name, EngineOptions: gnet.Options{}},
		"EnrollQueue twice":       {Engine: gnet.Name, EnrollQueue: 2, EngineOptions: &gnet.Options{EnrollQueue: 3}},
		"negative gnet buffer":    {Engine: gnet.Name, EngineOptions: &gnet.Options{ReadBufferCap: -1}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			cfg.Addr = "127.0.0.1:0"
			cfg.Logger = testLogger()
			srv, err := Start(cfg)
			if err == nil {
				srv.Stop()
				t.Fatalf("Start succeeded; want ErrInvalidConfig")
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Start: %v; want ErrInvalidConfig", err)
			}
		})
	}
}

// TestEnrollQueueToGnet: Config.EnrollQueue reaches the gnet engine's
// options, alone or beside EngineOptions that agree.
func TestEnrollQueueToGnet(t *testing.T) {
	for _, opts := range []any{nil, &gnet.Options{}, &gnet.Options{EnrollQueue: 3, ReadBufferCap: 4096}} {
		got, err := withEnrollQueue(opts, 3)
		if err != nil {
			t.Fatalf("withEnrollQueue(%+v, 3): %v", opts, err)
		}
		o, ok := got.(*gnet.Options)
		if !ok || o.EnrollQueue != 3 {
			t.Errorf("withEnrollQueue(%+v, 3) = %+v; want EnrollQueue 3", opts, got)
		}
		if p, _ := opts.(*gnet.Options); p != nil && o.ReadBufferCap != p.ReadBufferCap {
			t.Errorf("withEnrollQueue dropped ReadBufferCap")
		}
	}
}
