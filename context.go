package httpd

// This file holds Request.Context: a context.Context per session for loop
// handlers, and per request for Blocking handlers, cancelled when the
// session closes (the client went away, TriggerClose, Stop) and, for a
// Blocking request, when its handler returns. Nothing is allocated until a
// handler asks for it.

import (
	"context"
	"sync"
	"time"
)

// reqCtx is a context.Context that costs one small object until someone
// waits on it: the standard cancel context behind it (and its channel) is
// made when Done or AfterFunc is first called. It implements AfterFunc, so
// contexts derived from it (context.WithTimeout and the like) are
// cancelled with it without a goroutine of their own.
type reqCtx struct {
	mu     sync.Mutex
	inner  context.Context // nil until needed
	stop   context.CancelCauseFunc
	reason error // the cancel cause, once cancelled
}

func (c *reqCtx) get() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inner == nil {
		c.inner, c.stop = context.WithCancelCause(context.Background())
		if c.reason != nil {
			c.stop(c.reason)
		}
	}
	return c.inner
}

// cancel cancels the context with cause (first call wins).
func (c *reqCtx) cancel(cause error) {
	c.mu.Lock()
	if c.reason == nil {
		c.reason = cause
	}
	stop := c.stop
	c.mu.Unlock()
	if stop != nil {
		stop(cause)
	}
}

func (c *reqCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *reqCtx) Done() <-chan struct{}       { return c.get().Done() }
func (c *reqCtx) Value(any) any               { return nil }

func (c *reqCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reason != nil {
		return context.Canceled
	}
	return nil
}

// AfterFunc arranges for f to run in its own goroutine once the context is
// cancelled (the context package finds it on parents it does not know).
func (c *reqCtx) AfterFunc(f func()) func() bool { return context.AfterFunc(c.get(), f) }

func (c *reqCtx) String() string { return "httpd.Request.Context" }

// Context returns the request's context. In a loop handler it is the
// session's, cancelled when the session closes; in a Blocking handler it
// is the request's own, cancelled when the session closes (the client went
// away, TriggerClose, Stop) or when the handler returns. Its Err is then
// context.Canceled. It carries no values and no deadline.
func (r *Request) Context() context.Context {
	if r.bp != nil {
		bp := r.bp
		bp.mu.Lock()
		defer bp.mu.Unlock()
		if bp.ctx == nil {
			bp.ctx = bp.ctxStore
			if bp.ctx == nil {
				// A reused request's context is its own object: a
				// goroutine may wait on it after the handler returned.
				bp.ctx = new(reqCtx)
			}
			if bp.err == ErrSessionClosed || bp.ctxDone {
				bp.ctx.reason = ErrSessionClosed
			}
		}
		return bp.ctx
	}
	if r.s == nil {
		return context.Background()
	}
	return r.s.Context()
}

// Context returns the session's context, cancelled when the session
// closes. Loop only, like every Session method.
func (c *Session) Context() context.Context {
	x := c.ext()
	if x.ctx2 == nil {
		x.ctx2 = &reqCtx{}
		if c.closing {
			x.ctx2.reason = ErrSessionClosed
		}
	}
	return x.ctx2
}

// cancelContext cancels the session's context, if one was made (close).
func (c *Session) cancelContext() {
	if c.extra != nil && c.extra.ctx2 != nil {
		c.extra.ctx2.cancel(ErrSessionClosed)
	}
}

// handlerReturned ends a Blocking request's context when its handler
// returns (worker side); a hijacked connection keeps it until it closes.
func (r *Request) handlerReturned() {
	bp := r.bp
	bp.mu.Lock()
	if r.hij != nil {
		bp.mu.Unlock()
		return
	}
	bp.ctxDone = true
	ctx := bp.ctx
	bp.mu.Unlock()
	if ctx != nil {
		ctx.cancel(context.Canceled)
	}
}
