package enginetest

import (
	"crypto/rand"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/evhttpd/httpd/ctrl"
	"github.com/evhttpd/httpd/engine"
)

// wakeQueue is the counter queue the Wake tests push into: producers append
// under a lock and ring the loop; OnWake drains its loop's queue and checks
// every item was meant for it.
type wakeQueue struct {
	mu      sync.Mutex
	items   [][]int // per loop: the loop each item was pushed for
	drained []atomic.Int64
	wrong   atomic.Int64
}

func newWakeQueue(loops int) *wakeQueue {
	return &wakeQueue{items: make([][]int, loops), drained: make([]atomic.Int64, loops)}
}

func (q *wakeQueue) push(loop int) {
	q.mu.Lock()
	q.items[loop] = append(q.items[loop], loop)
	q.mu.Unlock()
}

func (q *wakeQueue) drain(loop int) {
	q.mu.Lock()
	items := q.items[loop]
	q.items[loop] = nil
	q.mu.Unlock()
	for _, l := range items {
		if l != loop {
			q.wrong.Add(1)
		}
	}
	q.drained[loop].Add(int64(len(items)))
}

func (q *wakeQueue) total() int64 {
	var n int64
	for i := range q.drained {
		n += q.drained[i].Load()
	}
	return n
}

// pinLoops opens conns until every loop has served an OnOpen, so the echo
// handler knows each loop's goroutine before OnWake runs.
func pinLoops(t *testing.T, e engine.Engine, h *echo) []net.Conn {
	t.Helper()
	var cs []net.Conn
	for range 2 * e.Loops() {
		c, err := net.Dial("tcp", e.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	waitFor(t, "pin conns open", func() bool { return h.numOpened() == len(cs) })
	return cs
}

func testWakeConcurrent(t *testing.T) {
	for _, loops := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("loops=%d", loops), func(t *testing.T) {
			fds := openFDs(t)
			h := newEcho()
			q := newWakeQueue(loops)
			h.onWake = q.drain
			e := startEngine(t, engine.Config{Loops: loops}, h)
			cs := pinLoops(t, e, h)
			const producers, per = 8, 10000
			var wg sync.WaitGroup
			for p := range producers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range per {
						l := (p + i) % loops
						q.push(l)
						if err := e.Wake(l); err != nil {
							t.Errorf("Wake(%d) = %v", l, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			waitFor(t, "every item drained", func() bool { return q.total() == producers*per })
			if n := q.wrong.Load(); n != 0 {
				t.Errorf("%d items drained on the wrong loop", n)
			}
			st := e.Stats()
			if st.Wakes == 0 || st.Wakes > producers*per {
				t.Errorf("Stats.Wakes = %d; want 1..%d (coalesced)", st.Wakes, producers*per)
			}
			for _, c := range cs {
				c.Close()
			}
			stopEngine(t, e)
			h.verifyClosed(t)
			checkLeaks(t, fds)
		})
	}
}

func testWakeBadLoop(t *testing.T) {
	h := newEcho()
	e := startEngine(t, engine.Config{Loops: 2}, h)
	defer stopEngine(t, e)
	for _, l := range []int{-1, 2, 1000} {
		if err := e.Wake(l); err != engine.ErrLoop {
			t.Errorf("Wake(%d) = %v; want engine.ErrLoop", l, err)
		}
	}
}

func testJunkDatagrams(t *testing.T) {
	token, err := ctrl.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ctrl.NewToken()
	h := newEcho()
	q := newWakeQueue(2)
	h.onWake = q.drain
	e := startEngine(t, engine.Config{Loops: 2, Token: token}, h)
	defer stopEngine(t, e)
	cs := pinLoops(t, e, h)
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	random := make([]byte, 200)
	rand.Read(random)
	wrongLen := ctrl.AppendDoorbell(nil, token, 0, ctrl.KindWork, 1)
	cases := []struct {
		name string
		pkt  []byte
	}{
		{"empty", nil},
		{"random", random},
		{"64KiB", make([]byte, 65507)}, // the largest IPv4 UDP payload
		{"foreign token", ctrl.AppendDoorbell(nil, other, 0, ctrl.KindWork, 1)},
		{"one byte short", wrongLen[:len(wrongLen)-1]},
		{"one byte long", append(append([]byte(nil), wrongLen...), 0)},
		{"corrupt crc", func() []byte {
			b := ctrl.AppendDoorbell(nil, token, 0, ctrl.KindWork, 1)
			b[len(b)-1] ^= 1
			return b
		}()},
		{"loop out of range", ctrl.AppendDoorbell(nil, token, 7, ctrl.KindWork, 1)},
		{"stop kind", ctrl.AppendDoorbell(nil, token, 0, ctrl.KindStop, 1)},
	}
	// Several source ports, so on Linux the junk reaches every loop.
	var senders []*net.UDPConn
	for range 8 {
		uc, err := net.DialUDP("udp", nil, e.CtrlAddr().(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		defer uc.Close()
		senders = append(senders, uc)
	}
	before := e.Stats().DoorbellsDropped
	const rounds = 20
	for r := range rounds {
		for i, c := range cases {
			if _, err := senders[(r+i)%len(senders)].Write(c.pkt); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		// Wakes still arrive between the junk.
		q.push(r % 2)
		if err := e.Wake(r % 2); err != nil {
			t.Fatal(err)
		}
		// One round at a time: a burst of 64 KiB datagrams would overflow
		// the socket's receive buffer, and the kernel drops those uncounted.
		want := before + uint64((r+1)*len(cases))
		waitFor(t, fmt.Sprintf("junk of round %d counted", r), func() bool { return e.Stats().DoorbellsDropped >= want })
	}
	want := before + uint64(rounds*len(cases))
	waitFor(t, "wakes delivered", func() bool { return q.total() == rounds })
	if got := e.Stats().DoorbellsDropped; got != want {
		t.Errorf("Stats.DoorbellsDropped = %d; want %d", got, want)
	}
	// A valid doorbell from an outside sender with the right token works.
	q.push(1)
	if _, err := senders[0].Write(ctrl.AppendDoorbell(nil, token, 1, ctrl.KindWork, 9)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "outside doorbell served", func() bool { return q.total() == rounds+1 })
	if q.wrong.Load() != 0 {
		t.Errorf("%d items on the wrong loop", q.wrong.Load())
	}
}
