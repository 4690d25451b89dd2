//go:build !race

package httpd

import (
	"bytes"
	"io"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/evhttpd/httpd/codec/ws"
)

// TestWSEchoAlloc gates the steady state of an uncompressed echo: a whole
// text message in one read goes through the zero-copy path, the handler's
// WSSend appends to the loop's output buffer, and nothing is allocated per
// message. The count is process-wide (runtime/metrics), so the client side
// uses preallocated frames and a fixed read buffer and allocates nothing
// inside the measured window either.
func TestWSEchoAlloc(t *testing.T) {
	srv := startTest(t, Config{EventLoops: 1})
	wsEcho(t, srv, URIHandler{})
	const messages = 20000
	for _, size := range []int{64, 1 << 10} {
		t.Run(strconv.Itoa(size)+"B", func(t *testing.T) {
			c, resp := wsDial(t, srv, "/ws")
			if resp.StatusCode != 101 {
				t.Fatalf("handshake %d; want 101", resp.StatusCode)
			}
			// 16-byte units, so both sizes end on a code point boundary.
			payload := bytes.Repeat([]byte("a\u00e9\u20ac\U0001F600abcdef"), size/16)
			frame := ws.AppendMaskedFrame(nil, ws.OpText, true, 0, [4]byte{0x5a, 0xa5, 0x3c, 0xc3}, payload)
			want := ws.AppendFrame(nil, ws.OpText, true, 0, payload)
			got := make([]byte, len(want))
			c.c.SetDeadline(time.Now().Add(2 * time.Minute))
			var failed error
			roundTrip := func(n int) {
				for range n {
					if _, err := c.c.Write(frame); err != nil {
						failed = err
						return
					}
					if _, err := io.ReadFull(c.br, got); err != nil {
						failed = err
						return
					}
				}
			}
			roundTrip(1000) // warm the pools, buffers and the engine
			if failed != nil {
				t.Fatalf("warm-up: %v", failed)
			}
			runtime.GC()
			sample := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
			metrics.Read(sample)
			before := sample[0].Value.Uint64()
			roundTrip(messages)
			metrics.Read(sample)
			after := sample[0].Value.Uint64()
			if failed != nil {
				t.Fatalf("echo: %v", failed)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("last echo = %q; want %q", got, want)
			}
			per := float64(after-before) / messages
			t.Logf("%d objects allocated over %d messages of %d bytes (%.4f per message)", after-before, messages, size, per)
			if per >= 0.05 {
				t.Errorf("%.4f allocations per echoed message; want < 0.05", per)
			}
		})
	}
}
