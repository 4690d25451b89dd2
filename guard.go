package httpd

// This file holds the calls into user code (handlers, error handlers,
// hooks, free callbacks), which recover panics, and the rate-limited log of
// handler errors.

import (
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// handlerFailed logs a handler's returned error at Warn, with what a
// reader needs to find the request, at most errLogPerSecond times a
// second server-wide: a flood of bad requests must not flood the log. The
// errors left out are counted in the next line logged. r must still hold
// its parser.
func (s *Server) handlerFailed(r *Request, err error) {
	now := time.Now().Unix()
	s.errLog.mu.Lock()
	if s.errLog.sec != now {
		s.errLog.sec, s.errLog.n = now, 0
	}
	s.errLog.n++
	ok := s.errLog.n <= errLogPerSecond
	dropped := 0
	if ok {
		dropped, s.errLog.dropped = s.errLog.dropped, 0
	} else {
		s.errLog.dropped++
	}
	s.errLog.mu.Unlock()
	if !ok {
		return
	}
	args := []any{"session", r.s.id, "method", r.Method(), "uri", string(r.URI()), "err", err}
	if dropped > 0 {
		args = append(args, "suppressed", dropped)
	}
	s.log.Warn("httpd: handler returned an error; the session closes", args...)
}

// errLogPerSecond caps handlerFailed's lines.
const errLogPerSecond = 10

// errLimiter is handlerFailed's state.
type errLimiter struct {
	mu      sync.Mutex
	sec     int64 // the second being counted (Unix time)
	n       int   // errors in it
	dropped int   // errors not logged since the last line
}

// runHandler runs the handler of r on the loop: inHandler marks the call
// (a WSSend there is flushed with the reply, not at once) and the session's
// LRU stamp records the use.
// It recovers a panic itself rather than through callHandler: one call
// with one deferred function per request, as the hot path had before.
func (c *Session) runHandler(r *Request) (err error, panicked bool) {
	c.inHandler = true
	defer func() {
		c.inHandler = false
		c.touch()
		if v := recover(); v != nil {
			panicked = true
			c.lp.srv.handlerPanicked(c, v)
		}
	}()
	return r.h.Handler(r), false
}

// callHandler runs a handler and recovers a panic (Blocking handlers, on
// their worker).
func (s *Server) callHandler(c *Session, r *Request) (err error, panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
			s.handlerPanicked(c, v)
		}
	}()
	return r.h.Handler(r), false
}

// handlerPanicked logs a recovered handler panic with its stack.
func (s *Server) handlerPanicked(c *Session, v any) {
	s.log.Error("httpd: handler panic recovered", "session", c.id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
}

func (s *Server) callErrHandler(c *Session, r *Request, fn ErrHandlerFunc, status int) (err error, panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
			s.log.Error("httpd: error handler panic recovered", "session", c.id, "panic", fmt.Sprint(v))
		}
	}()
	return fn(r, status), false
}

// callHook runs a user hook and turns a panic into an error.
func (s *Server) callHook(c *Session, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("httpd: hook panic: %v", v)
			s.log.Error("httpd: hook panic recovered", "session", c.id, "panic", fmt.Sprint(v))
		}
	}()
	return f()
}

// safeFree runs a free callback, recovering a panic.
func (s *Server) safeFree(c *Session, f func(any), v any) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("httpd: free callback panic recovered", "session", c.id, "panic", fmt.Sprint(r))
		}
	}()
	f(v)
}
