package ctrl

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

var testToken = Token{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}

type doorbellFields struct {
	loop int
	kind Kind
	seq  uint32
}

func TestDoorbellRoundTrip(t *testing.T) {
	cases := []doorbellFields{
		{0, KindWork, 0},
		{1, KindTick, 1},
		{7, KindStop, 0xdeadbeef},
		{MaxLoop, KindProbe, 0xffffffff},
		{256, KindWork, 1 << 31},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		cases = append(cases, doorbellFields{
			loop: rng.IntN(MaxLoop + 1),
			kind: Kind(1 + rng.IntN(int(kindEnd)-1)),
			seq:  rng.Uint32(),
		})
	}
	for _, c := range cases {
		t.Run(c.kind.String(), func(t *testing.T) {
			b := AppendDoorbell(nil, testToken, c.loop, c.kind, c.seq)
			if len(b) != DoorbellLen {
				t.Fatalf("AppendDoorbell(%d, %v, %d) has %d bytes; want %d", c.loop, c.kind, c.seq, len(b), DoorbellLen)
			}
			loop, kind, seq, ok := ParseDoorbell(b, testToken)
			got := doorbellFields{loop, kind, seq}
			if !ok || got != c {
				t.Fatalf("ParseDoorbell(%q) = %+v, %v; want %+v, true", b, got, ok, c)
			}
		})
	}
}

// TestAppendDoorbellKeepsPrefix checks that the doorbell is appended after
// what dst already holds and that the prefix is left alone.
func TestAppendDoorbellKeepsPrefix(t *testing.T) {
	prefix := []byte("prefix")
	b := AppendDoorbell(append([]byte(nil), prefix...), testToken, 3, KindWork, 9)
	if !bytes.Equal(b[:len(prefix)], prefix) {
		t.Fatalf("AppendDoorbell changed the prefix: %q", b[:len(prefix)])
	}
	want := AppendDoorbell(nil, testToken, 3, KindWork, 9)
	if !bytes.Equal(b[len(prefix):], want) {
		t.Fatalf("AppendDoorbell after a prefix = %q; want %q", b[len(prefix):], want)
	}
}

// reseal recomputes the CRC of a doorbell-sized buffer, so a test can change
// one field and see that field's own check rather than the CRC's.
func reseal(b []byte) []byte {
	binary.BigEndian.PutUint32(b[offCRC:], crc32.Checksum(b[:offCRC], castagnoli))
	return b
}

func TestParseDoorbellRejects(t *testing.T) {
	valid := AppendDoorbell(nil, testToken, 5, KindWork, 42)
	mod := func(f func(b []byte)) []byte {
		b := append([]byte(nil), valid...)
		f(b)
		return b
	}
	other := testToken
	other[15] ^= 1
	cases := []struct {
		name string
		in   []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"one byte", []byte{'e'}},
		{"short by one", valid[:DoorbellLen-1]},
		{"long by one", append(append([]byte(nil), valid...), 0)},
		{"two doorbells", append(append([]byte(nil), valid...), valid...)},
		{"oversized", make([]byte, 65507)},
		{"zeros", make([]byte, DoorbellLen)},
		{"junk", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n....")},
		{"foreign token", AppendDoorbell(nil, other, 5, KindWork, 42)},
		{"zero token", AppendDoorbell(nil, Token{}, 5, KindWork, 42)},
		{"bad magic resealed", mod(func(b []byte) { b[0] = 'E'; reseal(b) })},
		{"version 0 resealed", mod(func(b []byte) { b[offVersion] = 0; reseal(b) })},
		{"version 2 resealed", mod(func(b []byte) { b[offVersion] = 2; reseal(b) })},
		{"kind 0 resealed", mod(func(b []byte) { b[offKind] = 0; reseal(b) })},
		{"kind end resealed", mod(func(b []byte) { b[offKind] = byte(kindEnd); reseal(b) })},
		{"kind 255 resealed", mod(func(b []byte) { b[offKind] = 255; reseal(b) })},
		{"token resealed", mod(func(b []byte) { b[offToken+7] ^= 0x80; reseal(b) })},
		{"crc zeroed", mod(func(b []byte) { clear(b[offCRC:]) })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loop, kind, seq, ok := ParseDoorbell(c.in, testToken)
			if ok || loop != 0 || kind != 0 || seq != 0 {
				t.Fatalf("ParseDoorbell(%q) = %d, %v, %d, %v; want 0, 0, 0, false", c.in, loop, kind, seq, ok)
			}
		})
	}
}

// TestParseDoorbellEveryPrefix feeds every split of a valid doorbell: a
// datagram arrives whole, so no proper prefix and no suffix may parse.
func TestParseDoorbellEveryPrefix(t *testing.T) {
	valid := AppendDoorbell(nil, testToken, 1, KindTick, 2)
	for i := range len(valid) {
		if _, _, _, ok := ParseDoorbell(valid[:i], testToken); ok {
			t.Fatalf("ParseDoorbell(%q) = true for a %d-byte prefix; want false", valid[:i], i)
		}
		if _, _, _, ok := ParseDoorbell(valid[i+1:], testToken); ok {
			t.Fatalf("ParseDoorbell(%q) = true for a suffix from %d; want false", valid[i+1:], i+1)
		}
	}
}

// TestParseDoorbellSingleByteCorruption flips every byte of a valid doorbell
// to every other value: each of the 32*255 results must be rejected.
func TestParseDoorbellSingleByteCorruption(t *testing.T) {
	valid := AppendDoorbell(nil, testToken, 300, KindStop, 0x01020304)
	b := make([]byte, len(valid))
	for i := range valid {
		for x := 1; x < 256; x++ {
			copy(b, valid)
			b[i] ^= byte(x)
			if loop, kind, seq, ok := ParseDoorbell(b, testToken); ok {
				t.Fatalf("ParseDoorbell(%q) = %d, %v, %d, true after byte %d ^= %#x; want false", b, loop, kind, seq, i, x)
			}
		}
	}
}

func TestAppendDoorbellPanics(t *testing.T) {
	cases := []struct {
		name string
		loop int
		kind Kind
	}{
		{"negative loop", -1, KindWork},
		{"loop too big", MaxLoop + 1, KindWork},
		{"kind 0", 0, 0},
		{"kind end", 0, kindEnd},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatalf("AppendDoorbell(%d, %v) did not panic", c.loop, c.kind)
				}
			}()
			AppendDoorbell(nil, testToken, c.loop, c.kind, 0)
		})
	}
}

func TestKindString(t *testing.T) {
	cases := []struct {
		k    Kind
		want string
	}{
		{KindWork, "work"},
		{KindTick, "tick"},
		{KindStop, "stop"},
		{KindProbe, "probe"},
		{0, "ctrl.Kind(0)"},
		{kindEnd, "ctrl.Kind(5)"},
		{255, "ctrl.Kind(255)"},
	}
	for _, c := range cases {
		if got := c.k.String(); got != c.want {
			t.Errorf("Kind(%d).String() = %q; want %q", uint8(c.k), got, c.want)
		}
	}
}

func TestNewToken(t *testing.T) {
	a, err := NewToken()
	if err != nil {
		t.Fatalf("NewToken() error = %v", err)
	}
	b, err := NewToken()
	if err != nil {
		t.Fatalf("NewToken() error = %v", err)
	}
	if a == (Token{}) || a == b {
		t.Fatalf("NewToken() = %x, then %x; want two distinct non-zero tokens", a, b)
	}
	if _, _, _, ok := ParseDoorbell(AppendDoorbell(nil, a, 0, KindWork, 0), b); ok {
		t.Fatalf("a doorbell under token %x parsed under token %x", a, b)
	}
}

// TestDoorbellUDPLoopback sends doorbells and junk through a real loopback
// UDP socket, the way the server uses the codec, and checks that exactly the
// doorbells come out, in order.
func TestDoorbellUDPLoopback(t *testing.T) {
	srv, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("no loopback UDP: %v", err)
	}
	defer srv.Close()
	cli, err := net.DialUDP("udp", nil, srv.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatalf("DialUDP: %v", err)
	}
	defer cli.Close()

	other := testToken
	other[0] ^= 0xff
	const n = 16
	var out []byte
	for i := range n {
		// Junk before each doorbell: it must be dropped, not delivered.
		if _, err := cli.Write([]byte("junk")); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if _, err := cli.Write(AppendDoorbell(out[:0], other, i, KindWork, uint32(i))); err != nil {
			t.Fatalf("Write: %v", err)
		}
		out = AppendDoorbell(out[:0], testToken, i, KindWork, uint32(i))
		if _, err := cli.Write(out); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}

	buf := make([]byte, 2048)
	next := 0
	for read := 0; read < 3*n && next < n; read++ {
		if err := srv.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatalf("SetReadDeadline: %v", err)
		}
		m, err := srv.Read(buf)
		if err != nil {
			t.Fatalf("Read after %d doorbells: %v", next, err)
		}
		loop, kind, seq, ok := ParseDoorbell(buf[:m], testToken)
		if !ok {
			continue
		}
		if loop != next || kind != KindWork || seq != uint32(next) {
			t.Fatalf("doorbell %d = %d, %v, %d; want %d, work, %d", next, loop, kind, seq, next, next)
		}
		next++
	}
	if next != n {
		t.Fatalf("received %d doorbells; want %d", next, n)
	}
}

// FuzzParseDoorbell checks that ParseDoorbell never panics and accepts only
// what AppendDoorbell produces under the same token: whatever parses must
// re-encode to the very same bytes.
func FuzzParseDoorbell(f *testing.F) {
	f.Add(AppendDoorbell(nil, testToken, 0, KindWork, 0))
	f.Add(AppendDoorbell(nil, testToken, MaxLoop, KindProbe, 0xffffffff))
	f.Add(AppendDoorbell(nil, Token{}, 1, KindStop, 1))
	f.Add([]byte{})
	f.Add([]byte("evDB"))
	f.Fuzz(func(t *testing.T, b []byte) {
		loop, kind, seq, ok := ParseDoorbell(b, testToken)
		if !ok {
			if loop != 0 || kind != 0 || seq != 0 {
				t.Fatalf("ParseDoorbell(%q) = %d, %v, %d, false; want zero fields", b, loop, kind, seq)
			}
			return
		}
		if again := AppendDoorbell(nil, testToken, loop, kind, seq); !bytes.Equal(again, b) {
			t.Fatalf("ParseDoorbell(%q) = %d, %v, %d, true; re-encoded %q", b, loop, kind, seq, again)
		}
	})
}

// FuzzDoorbellRoundTrip checks encode → decode for arbitrary field values.
func FuzzDoorbellRoundTrip(f *testing.F) {
	f.Add(uint16(0), uint8(KindWork), uint32(0), testToken[:])
	f.Add(uint16(MaxLoop), uint8(KindProbe), uint32(1<<31), make([]byte, 16))
	f.Fuzz(func(t *testing.T, loop uint16, k uint8, seq uint32, tok []byte) {
		kind := Kind(k)
		if !kind.Valid() {
			return
		}
		var tk Token
		copy(tk[:], tok)
		b := AppendDoorbell(nil, tk, int(loop), kind, seq)
		gl, gk, gs, ok := ParseDoorbell(b, tk)
		if !ok || gl != int(loop) || gk != kind || gs != seq {
			t.Fatalf("ParseDoorbell(%q) = %d, %v, %d, %v; want %d, %v, %d, true", b, gl, gk, gs, ok, loop, kind, seq)
		}
	})
}

func BenchmarkAppendDoorbell(b *testing.B) {
	buf := make([]byte, 0, DoorbellLen)
	b.ReportAllocs()
	b.SetBytes(DoorbellLen)
	for i := 0; b.Loop(); i++ {
		buf = AppendDoorbell(buf[:0], testToken, i&MaxLoop, KindWork, uint32(i))
	}
}

func BenchmarkParseDoorbell(b *testing.B) {
	buf := AppendDoorbell(nil, testToken, 3, KindWork, 1)
	b.ReportAllocs()
	b.SetBytes(DoorbellLen)
	for b.Loop() {
		if _, _, _, ok := ParseDoorbell(buf, testToken); !ok {
			b.Fatal("ParseDoorbell rejected a valid doorbell")
		}
	}
}

// TestChecksumIsCRC32C: the table loop agrees with hash/crc32's Castagnoli
// checksum, including the check value of the standard "123456789" input.
func TestChecksumIsCRC32C(t *testing.T) {
	if got := checksum([]byte("123456789")); got != 0xe3069283 {
		t.Fatalf("checksum(123456789) = %#x; want 0xe3069283", got)
	}
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte(i*131 + i>>3)
	}
	for n := 0; n <= len(b); n++ {
		if got, want := checksum(b[:n]), crc32.Checksum(b[:n], castagnoli); got != want {
			t.Fatalf("len %d: checksum = %#x; crc32 = %#x", n, got, want)
		}
	}
}

// TestAppendDoorbellStackAlloc: building a doorbell in a stack buffer
// allocates nothing (Engine.Wake relies on it).
func TestAppendDoorbellStackAlloc(t *testing.T) {
	var sink uint32
	if a := testing.AllocsPerRun(1000, func() {
		var buf [DoorbellLen]byte
		p := AppendDoorbell(buf[:0], testToken, 1, KindWork, 7)
		sink += uint32(p[len(p)-1])
	}); a != 0 {
		t.Errorf("AppendDoorbell into a stack buffer: %v allocs/op; want 0", a)
	}
	_ = sink
}
