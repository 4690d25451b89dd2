//go:build !race && ((linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64)))

package netpoll

import (
	"testing"
	"time"

	"github.com/evhttpd/httpd/engine"
)

// TestWakeAlloc: Wake allocates nothing, whether it signals the loop's
// goroutine or finds a wake on its way, and the loop serving it allocates
// nothing either.
func TestWakeAlloc(t *testing.T) {
	woken := make(chan struct{}, 1)
	e := start(t, engine.Config{Loops: 1, TimerResolution: time.Second, TickInterval: time.Hour}, &nopHandler{wake: func(int) {
		select {
		case woken <- struct{}{}:
		default:
		}
	}})
	a := testing.AllocsPerRun(1000, func() {
		_ = e.Wake(0)
		<-woken
	})
	if a != 0 {
		t.Errorf("Wake and OnWake: %v allocs/op; want 0", a)
	}
	coalesced := testing.AllocsPerRun(1000, func() { _ = e.Wake(0) })
	if coalesced != 0 {
		t.Errorf("Wake: %v allocs/op; want 0", coalesced)
	}
}
