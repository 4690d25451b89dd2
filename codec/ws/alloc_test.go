//go:build !race

package ws

import "testing"

func TestParseHeaderAlloc(t *testing.T) {
	frame := AppendMaskedFrame(nil, OpBinary, true, 0, [4]byte{1, 2, 3, 4}, make([]byte, 300))
	var p FrameParser
	p.Config.RequireMask = true
	allocs := testing.AllocsPerRun(1000, func() {
		if _, _, err := p.ParseHeader(frame); err != nil {
			t.Fatal(err)
		}
		// Split header exercises the buffering path.
		if _, _, err := p.ParseHeader(frame[:3]); err != ErrNeedMore {
			t.Fatal(err)
		}
		if _, _, err := p.ParseHeader(frame[3:8]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ParseHeader allocs = %v; want 0", allocs)
	}
}

func TestMaskAlloc(t *testing.T) {
	b := make([]byte, 4096)
	allocs := testing.AllocsPerRun(1000, func() { Mask([4]byte{1, 2, 3, 4}, 3, b) })
	if allocs != 0 {
		t.Fatalf("Mask allocs = %v; want 0", allocs)
	}
}

func TestUTF8WriteAlloc(t *testing.T) {
	b := []byte("héllo wörld, κόσμε 😀 and some ascii to skip quickly")
	var v UTF8Validator
	allocs := testing.AllocsPerRun(1000, func() {
		v.Reset()
		if !v.Write(b[:3]) || !v.Write(b[3:]) || !v.Done() {
			t.Fatal("invalid")
		}
	})
	if allocs != 0 {
		t.Fatalf("UTF8Validator.Write allocs = %v; want 0", allocs)
	}
}

func TestAppendFrameAlloc(t *testing.T) {
	payload := make([]byte, 1000)
	dst := make([]byte, 0, 2048)
	allocs := testing.AllocsPerRun(1000, func() {
		dst = AppendFrame(dst[:0], OpBinary, true, 0, payload)
		dst = AppendClose(dst[:0], StatusGoingAway, "bye")
		dst = AppendMaskedFrame(dst[:0], OpText, true, 0, [4]byte{9, 8, 7, 6}, payload)
	})
	if allocs != 0 {
		t.Fatalf("AppendFrame allocs = %v; want 0", allocs)
	}
}

func TestParseClosePayloadAlloc(t *testing.T) {
	p := []byte("\x03\xe8goodbye")
	allocs := testing.AllocsPerRun(1000, func() {
		if _, _, err := ParseClosePayload(p); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ParseClosePayload allocs = %v; want 0", allocs)
	}
}
