package httpd

// This file holds the per-request completion hook (Config.OnRequestDone)
// and a ready access logger on it, so access logs and metrics need no
// wrapper around every handler.

import (
	"context"
	"log/slog"
	"time"
)

// RequestDone describes a finished request to Config.OnRequestDone.
type RequestDone struct {
	Session SessionID
	Method  string
	// URI is the request-target as received; like every slice a callback
	// is handed, it is valid only during the call.
	URI      []byte
	Status   int           // the reply's status
	BytesIn  int64         // request body bytes the handler received (decoded)
	BytesOut int64         // reply body bytes the handler sent (framing excluded)
	Duration time.Duration // from the end of the request head to the end of the reply
	Err      error         // the handler's error, if it returned one
}

// markStart notes when a request's head ended, when the hook wants it.
// Like requestDone it is inlined: without the hook it costs a nil check.
func (c *Session) markStart() {
	if c.lp.srv.cfg.OnRequestDone != nil {
		c.markStartNow()
	}
}

func (c *Session) markStartNow() { c.rq().start = int64(time.Since(monoBase)) }

// requestDone runs Config.OnRequestDone for a request whose reply ended
// (loop side). r must still hold its parser for the method and URI.
func (c *Session) requestDone(r *Request, err error) {
	if c.lp.srv.cfg.OnRequestDone != nil {
		c.runRequestDone(r, err)
	}
}

func (c *Session) runRequestDone(r *Request, err error) {
	f := c.lp.srv.cfg.OnRequestDone
	d := &c.lp.done
	*d = RequestDone{Session: c.id, Method: r.Method(), URI: r.URI(), Status: r.status,
		BytesIn: r.recvd + int64(len(r.body)), BytesOut: r.sentBody, Err: err}
	if c.reqState != nil && c.reqState.start != 0 {
		d.Duration = time.Duration(int64(time.Since(monoBase)) - c.reqState.start)
		c.reqState.start = 0
	}
	_ = c.lp.srv.callHook(c, func() error { f(d); return nil })
	*d = RequestDone{}
}

// AccessLog returns a Config.OnRequestDone hook that logs every request to
// l at level (one record, message "request", with session, method, uri,
// status, bytes_in, bytes_out, duration and err when there is one). It
// runs on the event loop: give it a slog handler that does not block for
// long (a buffered file, not a network sink).
func AccessLog(l *slog.Logger, level slog.Level) func(*RequestDone) {
	return func(d *RequestDone) {
		ctx := context.Background()
		if !l.Enabled(ctx, level) {
			return
		}
		attrs := [...]slog.Attr{
			slog.Uint64("session", uint64(d.Session)),
			slog.String("method", d.Method),
			slog.String("uri", string(d.URI)),
			slog.Int("status", d.Status),
			slog.Int64("bytes_in", d.BytesIn),
			slog.Int64("bytes_out", d.BytesOut),
			slog.Duration("duration", d.Duration),
			slog.Any("err", d.Err),
		}
		n := len(attrs)
		if d.Err == nil {
			n--
		}
		l.LogAttrs(ctx, level, "request", attrs[:n]...)
	}
}
