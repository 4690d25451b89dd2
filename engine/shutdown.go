package engine

import (
	"context"
	"sync"
)

// Shutdown is the Stop every backend has: the first call starts the
// backend's shutdown on a goroutine of its own, and every call waits for it
// to finish or for its context. The zero value is ready.
type Shutdown struct {
	once sync.Once
	done chan struct{} // closed when shutdown returned; set by the first Stop
}

// Stop runs shutdown once, in the background, and waits until it returned
// (nil) or ctx is done (ctx's error); a later call waits for the same
// shutdown.
func (s *Shutdown) Stop(ctx context.Context, shutdown func()) error {
	s.once.Do(func() {
		s.done = make(chan struct{})
		go func() {
			shutdown()
			close(s.done)
		}()
	})
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
