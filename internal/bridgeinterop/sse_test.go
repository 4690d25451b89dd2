package bridgeinterop

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSSE streams Server-Sent Events from a handler that uses
// http.Flusher: each event reaches the client before the next is produced
// (the handler waits for the client's word), so nothing is held back in a
// buffer.
func TestSSE(t *testing.T) {
	const events = 20
	got := make(chan int, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		if !ok {
			t.Error("no http.Flusher")
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		for i := 0; i < events; i++ {
			fmt.Fprintf(w, "id: %d\ndata: event %d\n\n", i, i)
			f.Flush()
			select {
			case n := <-got:
				if n != i {
					t.Errorf("client saw %d, want %d", n, i)
					return
				}
			case <-r.Context().Done():
				return
			case <-time.After(30 * time.Second):
				t.Errorf("event %d not received", i)
				return
			}
		}
	})
	s := startBridge(t, false, "/events", h)
	res, err := s.cl.Get(s.base + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Type") != "text/event-stream" || len(res.TransferEncoding) == 0 {
		t.Errorf("head %v %v", res.Header, res.TransferEncoding)
	}
	sc := bufio.NewScanner(res.Body)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if data, ok := strings.CutPrefix(line, "data: event "); ok {
			if data != fmt.Sprint(n) {
				t.Fatalf("event %q; want %d", line, n)
			}
			got <- n
			n++
		}
	}
	if err := sc.Err(); err != nil || n != events {
		t.Errorf("%d events, %v", n, err)
	}
}
