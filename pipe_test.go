package httpd

import (
	"io"
	"testing"
	"time"
)

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
	bp.mu.Lock()
	wake := bp.waitChan() // as a worker that waited once
	bp.mu.Unlock()

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
	<-wake
	bp.push(make([]byte, 100), false, true)
	select {
	case <-wake:
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

// TestBodyPipeWakeLazy: the channel a worker waits on is made by its first
// wait, not per request; a push or a failure that comes before it exists
// is seen by the worker's look under the lock, and one that comes while it
// waits wakes it. Run under -race, each round races a waiting read against
// the loop's push (or failure).
func TestBodyPipeWakeLazy(t *testing.T) {
	var idle bodyPipe
	idle.init(0)
	idle.push(nil, true, false)
	idle.fail(ErrSessionClosed)
	if idle.wake != nil {
		t.Fatal("a pipe nobody waited on made a channel")
	}
	for i := 0; i < 2000; i++ {
		var bp bodyPipe
		bp.init(5)
		got := make(chan error, 1)
		go func() {
			var b [8]byte
			n, err := bp.read(b[:], 10*time.Second, nil)
			if err == nil && n != 5 {
				err = io.ErrShortBuffer
			}
			got <- err
		}()
		if i%2 == 0 {
			bp.push([]byte("hello"), true, false)
		} else {
			bp.fail(ErrSessionClosed)
		}
		select {
		case err := <-got:
			if i%2 == 0 && err != nil || i%2 == 1 && err != ErrSessionClosed {
				t.Fatalf("round %d: read returned %v", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: the read missed its wake-up", i)
		}
	}
}
