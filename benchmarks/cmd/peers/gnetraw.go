package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
)

func init() { register("gnet-raw", startGnetRaw) }

// gnetRawMaxPending is how many buffered bytes without a complete request a
// gnet-raw connection may hold before it is closed.
const gnetRawMaxPending = 64 << 10

// gnetRaw is the ceiling: it never parses. Every "\r\n\r\n" in the input
// ends a request and gets the canned reply; bytes after the last one stay
// in gnet's inbound buffer for the next read.
type gnetRaw struct {
	gnet.BuiltinEventEngine
	date   *dateClock
	reply  atomic.Pointer[[]byte] // canned reply, rebuilt when the date changes
	booted chan gnet.Engine
}

func (g *gnetRaw) build() {
	r := []byte("HTTP/1.1 200 OK\r\nServer: gnet-raw\r\nDate: " + g.date.get() +
		"\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\n" + hello)
	g.reply.Store(&r)
}

func (g *gnetRaw) OnBoot(eng gnet.Engine) gnet.Action {
	g.booted <- eng
	return gnet.None
}

// OnTick refreshes the canned reply so its Date follows the clock.
func (g *gnetRaw) OnTick() (time.Duration, gnet.Action) {
	g.build()
	return 500 * time.Millisecond, gnet.None
}

// rawConn is a connection's reply buffer, reused for every read.
type rawConn struct{ out []byte }

func (g *gnetRaw) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	c.SetContext(&rawConn{})
	return nil, gnet.None
}

var crlfcrlf = []byte("\r\n\r\n")

func (g *gnetRaw) OnTraffic(c gnet.Conn) gnet.Action {
	in, err := c.Peek(-1) // valid until Discard
	if err != nil {
		return gnet.Close
	}
	rc := c.Context().(*rawConn)
	reply := *g.reply.Load()
	rc.out = rc.out[:0]
	consumed := 0
	for {
		i := bytes.Index(in[consumed:], crlfcrlf)
		if i < 0 {
			break
		}
		consumed += i + len(crlfcrlf)
		rc.out = append(rc.out, reply...)
	}
	if len(in)-consumed > gnetRawMaxPending {
		return gnet.Close
	}
	if consumed == 0 {
		return gnet.None
	}
	if _, err := c.Discard(consumed); err != nil {
		return gnet.Close
	}
	if _, err := c.Write(rc.out); err != nil {
		return gnet.Close
	}
	return gnet.None
}

// quietLogger drops gnet's logs below Error and writes the rest to stderr
// (stdout carries the "ready" line).
type quietLogger struct{}

func (quietLogger) Debugf(string, ...any) {}
func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gnet: "+format+"\n", args...)
}
func (quietLogger) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gnet: "+format+"\n", args...)
}

var _ logging.Logger = quietLogger{}

func startGnetRaw(c config) (func() error, error) {
	g := &gnetRaw{date: newDateClock(), booted: make(chan gnet.Engine, 1)}
	g.build()
	done := make(chan error, 1)
	go func() {
		done <- gnet.Run(g, "tcp://"+c.addr,
			gnet.WithMulticore(c.loops > 1),
			gnet.WithNumEventLoop(c.loops),
			gnet.WithTicker(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithLogger(quietLogger{}))
	}()
	var eng gnet.Engine
	select {
	case eng = <-g.booted:
	case err := <-done:
		g.date.stop()
		if err == nil {
			err = errors.New("gnet engine exited before boot")
		}
		return nil, err
	}
	return func() error {
		defer g.date.stop()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := eng.Stop(ctx); err != nil {
			return err
		}
		return <-done
	}, nil
}
