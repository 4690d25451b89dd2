package httpd

import "testing"

// TestBodyPipeStarved: whenever the loop leaves body bytes queued for lack
// of room, the pipe says so (starved) by the time a worker can see the
// pipe's new state, so the worker that drains it asks for the rest. The
// flag used to be set in a second hold of the lock: a worker that drained
// the pipe in between waited for a push while the loop waited for a refill,
// and the upload ended in ErrRecvTimeout (nethttp's TestUploadStreams,
// about one run in ten on a loaded machine).
func TestBodyPipeStarved(t *testing.T) {
	var bp bodyPipe
	bp.init(1 << 20)

	// A full pipe: the loop finds no room.
	bp.push(make([]byte, pipeCap), false, false)
	if bp.starved {
		t.Fatal("starved after a push that left nothing queued")
	}
	if room := bp.space(); room != 0 {
		t.Fatalf("space() = %d on a full pipe", room)
	}
	if !drained(&bp) {
		t.Error("a worker draining a pipe the loop found full is not told to ask for more")
	}

	// Room for part of the input: the rest stays queued.
	<-bp.wake
	bp.push(make([]byte, 100), false, true)
	select {
	case <-bp.wake:
	default:
		t.Fatal("push did not signal the worker")
	}
	if !drained(&bp) {
		t.Error("a worker woken by a push that left bytes queued is not told to ask for more")
	}

	// Everything handed over: no refill needed.
	bp.push(make([]byte, 100), false, false)
	if drained(&bp) {
		t.Error("starved after a push that left nothing queued")
	}
	if room := bp.space(); room != pipeCap {
		t.Errorf("space() = %d on an empty pipe; want %d", room, pipeCap)
	}
}

// drained takes every byte from bp as a worker's read does and reports
// whether the worker was told to ask the loop for more.
func drained(bp *bodyPipe) bool {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	bp.off = len(bp.buf)
	ask := bp.starved
	bp.starved = false
	return ask
}
