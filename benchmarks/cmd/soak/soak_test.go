package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"io"
	"testing"
	"time"
)

func TestHistQuantile(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.quantile(tt.q)
		// A bucket is 2% wide and quantile returns its upper edge.
		if got < tt.want || float64(got) > float64(tt.want)*1.021 {
			t.Errorf("quantile(%v) = %v; want %v to +2%%", tt.q, got, tt.want)
		}
	}
	var empty hist
	if got := empty.quantile(0.99); got != 0 {
		t.Errorf("empty quantile = %v; want 0", got)
	}
	var m hist
	m.merge(&h)
	m.merge(&h)
	if m.n != 2000 || m.quantile(0.5) != h.quantile(0.5) {
		t.Errorf("merged: n %d, p50 %v; want 2000, %v", m.n, m.quantile(0.5), h.quantile(0.5))
	}
}

func TestRecorderDistinctErrors(t *testing.T) {
	r := newRecorder()
	for range 3 {
		r.fail("get", io.EOF)
	}
	r.fail("get", io.ErrUnexpectedEOF)
	r.ok("get", time.Millisecond)
	k := r.reset()["get"]
	if k.fails != 4 || len(k.errs) != 2 || k.nerrs[0] != 3 || k.nerrs[1] != 1 || k.h.n != 1 {
		t.Errorf("get: %d fails, errs %q × %v, %d ok; want 4, 2 distinct (3, 1), 1", k.fails, k.errs, k.nerrs, k.h.n)
	}
	if h, f := r.takeWindow(); h.n != 1 || f != 4 {
		t.Errorf("window: %d ok, %d fails; want 1, 4", h.n, f)
	}
}

// The attackers' frames must be what RFC 6455 §5.2 says they are: read
// back by the same reader the attackers use for the server's close.
func TestWSFrame(t *testing.T) {
	for _, n := range []int{0, 2, 125, 126, 65535, 65536} {
		payload := bytes.Repeat([]byte{0x03, 0xe9}, n/2)
		f := wsFrame(true, false, opClose, payload, false)
		code, ok := readClose(bufio.NewReader(bytes.NewReader(f)))
		want := 1005
		if n >= 2 {
			want = 1001
		}
		if !ok || code != want {
			t.Errorf("close frame with %d bytes: code %d, %v; want %d", n, code, ok, want)
		}
	}
	m := wsFrame(true, true, opBinary, []byte("abcd"), true)
	if m[0] != 0xc2 || m[1] != 0x84 || len(m) != 2+4+4 {
		t.Fatalf("masked frame header % x", m[:2])
	}
	for i, c := range m[6:] {
		if c^m[2+i%4] != "abcd"[i] {
			t.Errorf("masked byte %d = %#x; want %q masked", i, c, "abcd"[i])
		}
	}
}

// The bomb must inflate (RFC 7692 §7.2.2: append 00 00 ff ff) to n bytes
// while staying small on the wire.
func TestDeflateBomb(t *testing.T) {
	const n = 20 << 20
	b := deflateBomb(n)
	if len(b) > 64<<10 {
		t.Errorf("bomb is %d bytes compressed; want a small one", len(b))
	}
	r := flate.NewReader(io.MultiReader(bytes.NewReader(b), bytes.NewReader([]byte{0, 0, 0xff, 0xff})))
	got, err := io.Copy(io.Discard, r)
	if got != n || err != io.ErrUnexpectedEOF {
		// No final block: the reader ends with ErrUnexpectedEOF after n bytes.
		t.Errorf("inflated %d bytes, %v; want %d, unexpected EOF", got, err, n)
	}
}

func TestCaptureHello(t *testing.T) {
	h, err := captureHello()
	if err != nil {
		t.Fatal(err)
	}
	// A TLS handshake record (RFC 8446 §5.1) carrying a ClientHello (§4).
	if h[0] != 0x16 || h[1] != 0x03 || h[5] != 0x01 {
		t.Errorf("captured % x...; want a handshake record with a ClientHello", h[:6])
	}
}
