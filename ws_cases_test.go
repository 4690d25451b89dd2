package httpd

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evhttpd/httpd/codec/ws"
)

// The RFC 6455 / RFC 7692 case table. Autobahn cannot run here, so the
// cases follow its test groups (the leading number of each name is the
// Autobahn group) and run against a real server over loopback with the raw
// client of ws_test.go: each case writes frames, then asserts the exact
// frames that come back and how the server closes (close code, then EOF).

// wsCaseTimeout bounds every read and write of a case; the large cases move
// 16 MiB each way, so it is generous, but no case waits for it to pass.
const wsCaseTimeout = 30 * time.Second

// wsChop says how a case's byte stream is written.
type wsChop uint8

const (
	chopWhole  wsChop = iota // one write
	chopByte                 // one byte per write (the first chopByteMax bytes)
	chopRandom               // random chunk sizes (seeded by the case name)
)

// chopByteMax bounds the bytes of a stream written one per write.
const chopByteMax = 64<<10 + 16

func (m wsChop) String() string {
	switch m {
	case chopByte:
		return "bytewise"
	case chopRandom:
		return "random chunks"
	}
	return "whole"
}

// Close expectations other than a status code.
const (
	wsOpen       = -1 // the server must not close; the runner closes with 1000
	wsEmptyClose = 0  // a close frame with no payload
)

// wsF is a frame the client sends or expects. raw, when set, is written
// as is (a header the codec would not build, or a header without payload).
type wsF struct {
	op  ws.Opcode
	fin bool
	rsv byte
	p   []byte
	raw []byte
}

func (f wsF) String() string {
	if f.raw != nil {
		return fmt.Sprintf("raw(%d bytes)", len(f.raw))
	}
	return fmt.Sprintf("%v fin=%v rsv=%d %s", f.op, f.fin, f.rsv, wsShow(f.p))
}

// wsShow prints a payload short enough for a failure message.
func wsShow(p []byte) string {
	if len(p) <= 40 {
		return fmt.Sprintf("%q", p)
	}
	return fmt.Sprintf("%q...(%d bytes)", p[:32], len(p))
}

func text(s string) wsF                { return wsF{op: ws.OpText, fin: true, p: []byte(s)} }
func bin(p []byte) wsF                 { return wsF{op: ws.OpBinary, fin: true, p: p} }
func frag(op ws.Opcode, s string) wsF  { return wsF{op: op, p: []byte(s)} }
func final(op ws.Opcode, s string) wsF { return wsF{op: op, fin: true, p: []byte(s)} }
func ctl(op ws.Opcode, p []byte) wsF   { return wsF{op: op, fin: true, p: p} }

// closeP builds a close payload: code and reason.
func closeP(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

type wsCase struct {
	name string
	path string   // endpoint; "/echo" when empty
	hdrs []string // extra handshake headers
	chop wsChop
	send []wsF
	want []wsF
	// close is the status code of the server's close frame, wsEmptyClose
	// for a close without payload, or wsOpen.
	close int
	// run replaces send, want and close for cases that must interleave
	// writes and reads.
	run func(t *testing.T, c *wsTestConn)
	// heavy cases move megabytes through code a lighter case covers too:
	// they are skipped under the race detector, whose instrumented memory
	// accesses make each cost seconds of CPU, and run in test.sh's pass
	// without it.
	heavy bool
}

// skipHeavy skips a heavy case under the race detector.
func skipHeavy(t *testing.T, tc wsCase) {
	if tc.heavy && raceEnabled {
		t.Skip("heavy case: runs without the race detector (test.sh's second pass)")
	}
}

// wsTestConn is the case runner's client: wsClient plus a frame reader that
// reports errors instead of failing, and permessage-deflate state.
type wsTestConn struct {
	*wsClient
	t       *testing.T
	rng     *rand.Rand
	resp    *http.Response
	fp      ws.FrameParser
	deflate bool
	params  ws.DeflateParams
	comp    ws.Compressor
	decomp  ws.Decompressor
}

func wsCaseDial(t *testing.T, srv *Server, path string, hdrs ...string) *wsTestConn {
	t.Helper()
	c, resp := wsDial(t, srv, path, hdrs...)
	c.t = t
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	tc := &wsTestConn{wsClient: c, t: t, resp: resp, rng: rand.New(rand.NewPCG(h.Sum64(), 6455))}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake %s = %d; want 101", path, resp.StatusCode)
	}
	if v := resp.Header.Get("Sec-WebSocket-Extensions"); v != "" {
		p, ok := ws.ParseDeflateResponse([]byte(v))
		if !ok {
			t.Fatalf("Sec-WebSocket-Extensions %q: not a valid permessage-deflate response", v)
		}
		tc.deflate, tc.params = true, p
		if err := tc.comp.Init(p.ClientMaxWindowBits, !p.ClientNoContextTakeover, 1); err != nil {
			t.Fatalf("client compressor: %v", err)
		}
		if err := tc.decomp.Init(p.ServerMaxWindowBits, !p.ServerNoContextTakeover); err != nil {
			t.Fatalf("client decompressor: %v", err)
		}
		t.Cleanup(func() { tc.comp.Release(); tc.decomp.Release() })
	}
	tc.fp.Config = ws.ParserConfig{RejectMask: true, AllowRSV1: tc.deflate}
	return tc
}

// encode appends f masked with a random key.
func (c *wsTestConn) encode(dst []byte, f wsF) []byte {
	if f.raw != nil {
		return append(dst, f.raw...)
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], c.rng.Uint32()|1)
	return ws.AppendMaskedFrame(dst, f.op, f.fin, f.rsv, key, f.p)
}

// writeStream writes b as chop says. Write errors fail the test.
func (c *wsTestConn) writeStream(b []byte, chop wsChop) {
	c.t.Helper()
	if err := c.tryWrite(b, chop); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsTestConn) tryWrite(b []byte, chop wsChop) error {
	c.c.SetWriteDeadline(time.Now().Add(wsCaseTimeout))
	for sent := 0; len(b) > 0; {
		n := len(b)
		switch chop {
		case chopByte:
			n = 1
			if sent >= chopByteMax {
				// Past the first 64 KiB a byte per write finds nothing new,
				// only costs a syscall each: finish in random chunks.
				chop = chopRandom
			}
		case chopRandom:
			// Mostly small pieces, sometimes large, so frame headers and
			// payloads are cut everywhere.
			n = 1 + c.rng.IntN([...]int{7, 200, 5000, 70000}[c.rng.IntN(4)])
		}
		n = min(n, len(b))
		if _, err := c.c.Write(b[:n]); err != nil {
			return err
		}
		b, sent = b[n:], sent+n
	}
	return nil
}

func (c *wsTestConn) sendFrames(chop wsChop, fs ...wsF) {
	c.t.Helper()
	var b []byte
	for _, f := range fs {
		b = c.encode(b, f)
	}
	c.writeStream(b, chop)
}

// next reads one frame from the server.
func (c *wsTestConn) next() (ws.Header, []byte, error) {
	c.c.SetReadDeadline(time.Now().Add(wsCaseTimeout))
	var hb [ws.MaxHeaderSize]byte
	if _, err := io.ReadFull(c.br, hb[:2]); err != nil {
		return ws.Header{}, nil, err
	}
	n := 2
	switch hb[1] & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if hb[1]&0x80 != 0 {
		n += 4
	}
	if _, err := io.ReadFull(c.br, hb[2:n]); err != nil {
		return ws.Header{}, nil, err
	}
	c.fp.Reset()
	_, h, err := c.fp.ParseHeader(hb[:n])
	if err != nil {
		return ws.Header{}, nil, fmt.Errorf("bad frame from server: %w", err)
	}
	if h.Length > 64<<20 {
		return ws.Header{}, nil, fmt.Errorf("server frame of %d bytes", h.Length)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, p); err != nil {
		return ws.Header{}, nil, err
	}
	return h, p, nil
}

// expect reads one frame and compares it with want; a compressed frame is
// inflated first (every message the server sends is one frame).
func (c *wsTestConn) expect(i int, want wsF) {
	c.t.Helper()
	h, p, err := c.next()
	if err != nil {
		c.t.Fatalf("frame %d: %v; want %v", i, err, want)
	}
	if h.Rsv&ws.Rsv1 != 0 {
		if !c.deflate || !h.Op.IsData() {
			c.t.Fatalf("frame %d has RSV1 (%v) without permessage-deflate", i, h.Op)
		}
		out, err := c.decomp.Decompress(nil, p, 64<<20)
		if err != nil {
			c.t.Fatalf("frame %d: inflating the server's message: %v", i, err)
		}
		p, h.Rsv = out, 0
	}
	got := wsF{op: h.Op, fin: h.Fin, rsv: h.Rsv, p: p}
	if got.op != want.op || got.fin != want.fin || got.rsv != want.rsv || !bytes.Equal(got.p, want.p) {
		c.t.Fatalf("frame %d = %v; want %v", i, got, want)
	}
}

// expectClose reads the server's close frame (code, or no payload for
// wsEmptyClose) and then EOF.
func (c *wsTestConn) expectClose(code int) {
	c.t.Helper()
	h, p, err := c.next()
	if err != nil {
		c.t.Fatalf("reading close: %v; want close %d", err, code)
	}
	var want []byte
	if code != wsEmptyClose {
		want = binary.BigEndian.AppendUint16(nil, uint16(code))
	}
	if h.Op != ws.OpClose || !bytes.Equal(p, want) {
		c.t.Fatalf("frame = %v %s; want close %x", h.Op, wsShow(p), want)
	}
	if !c.closedByPeer(5 * time.Second) {
		c.t.Fatal("connection still open after the close frame; want EOF")
	}
}

// finish checks that the session is healthy and ends it cleanly.
func (c *wsTestConn) finish() {
	c.t.Helper()
	c.sendFrames(chopWhole, ctl(ws.OpClose, closeP(1000, "bye")))
	c.expectClose(1000)
}

func runWSCase(t *testing.T, srv *Server, tc wsCase) {
	skipHeavy(t, tc)
	path := tc.path
	if path == "" {
		path = "/echo"
	}
	c := wsCaseDial(t, srv, path, tc.hdrs...)
	if tc.run != nil {
		tc.run(t, c)
		return
	}
	c.sendFrames(tc.chop, tc.send...)
	for i, w := range tc.want {
		c.expect(i, w)
	}
	if tc.close == wsOpen {
		c.finish()
		return
	}
	c.expectClose(tc.close)
}

// wsCaseServer serves the endpoints the table uses.
func wsCaseServer(t *testing.T) *Server {
	srv := startTest(t, Config{MaxOutbound: 64 << 20})
	echo := func(path string, hh URIHandler) {
		hh.URI = path
		hh.Method, hh.IsWebSocket = "GET", true
		hh.Handler = func(r *Request) error {
			if r.IsWSHandshake() {
				return nil
			}
			f, _ := r.WSFrame()
			return r.WSSend(f)
		}
		mustRegister(t, srv, hh)
	}
	echo("/echo", URIHandler{})
	echo("/small", URIHandler{WSMaxMessage: 1000})
	echo("/big", URIHandler{WSMaxMessage: 16 << 20})
	echo("/deflate", URIHandler{WSMaxMessage: 4 << 20, WSDeflate: &ws.DeflateConfig{}})
	echo("/deflate-strict", URIHandler{WSMaxMessage: 4 << 20, WSDeflate: &ws.DeflateConfig{
		ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 11, Level: 6}})
	echo("/bomb", URIHandler{WSMaxMessage: 1 << 20, WSDeflate: &ws.DeflateConfig{}})
	return srv
}

// Shared payloads, sliced by the cases so the table holds no copies.
var (
	wsBinary = sync.OnceValue(func() []byte {
		r := rand.New(rand.NewPCG(1, 2))
		b := make([]byte, 16<<20+16)
		for i := 0; i+8 <= len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], r.Uint64())
		}
		return b
	})
	// wsTextBuf is valid UTF-8 with 1-, 2-, 3- and 4-byte sequences; every
	// multiple of 16 bytes ends on a code point boundary.
	wsTextBuf = sync.OnceValue(func() []byte {
		const unit = "a\u00e9\u20ac\U0001F600abcdef" // 1+2+3+4+6 bytes
		return bytes.Repeat([]byte(unit), (16<<20)/16+1)
	})
	// wsASCII is ASCII, valid text at any length.
	wsASCII = sync.OnceValue(func() []byte {
		b := make([]byte, 1<<20)
		for i := range b {
			b[i] = 'a' + byte(i%26)
		}
		return b
	})
)

// wsWords returns n bytes of compressible text from a small vocabulary.
func wsWords(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7692))
	words := []string{"frame ", "mask ", "deflate ", "window ", "élan ", "€uro ", "close ", "ping "}
	var b []byte
	for len(b) < n {
		b = append(b, words[r.IntN(len(words))]...)
	}
	for len(b) > n { // cut back to a code point boundary, pad with ASCII
		b = b[:n]
		for len(b) > 0 && b[len(b)-1]&0xC0 == 0x80 {
			b = b[:len(b)-1]
		}
		if len(b) > 0 && b[len(b)-1] >= 0xC0 {
			b = b[:len(b)-1]
		}
		for len(b) < n {
			b = append(b, '.')
		}
	}
	return b
}

// fragments splits p into frames of size n: first op, then continuations.
func fragments(op ws.Opcode, p []byte, n int) []wsF {
	var fs []wsF
	for first := true; first || len(p) > 0; first = false {
		k := min(n, len(p))
		o := op
		if !first {
			o = ws.OpContinuation
		}
		fs = append(fs, wsF{op: o, fin: k == len(p), p: p[:k]})
		p = p[k:]
	}
	return fs
}

func wsCases() []wsCase {
	var cs []wsCase
	add := func(c wsCase) { cs = append(cs, c) }

	// 1 framing: sizes around each length encoding boundary (RFC 6455
	// §5.2: 7-bit, 16-bit, 64-bit), each written whole, a byte per write
	// and in random chunks.
	for _, n := range []int{0, 125, 126, 127, 128, 65535, 65536, 1 << 20} {
		for _, chop := range []wsChop{chopWhole, chopByte, chopRandom} {
			tp := wsASCII()[:n]
			bp := wsBinary()[:n]
			add(wsCase{name: fmt.Sprintf("1.1 text %d %v", n, chop), chop: chop, send: []wsF{{op: ws.OpText, fin: true, p: tp}}, want: []wsF{{op: ws.OpText, fin: true, p: tp}}, close: wsOpen})
			add(wsCase{name: fmt.Sprintf("1.2 binary %d %v", n, chop), chop: chop, send: []wsF{bin(bp)}, want: []wsF{bin(bp)}, close: wsOpen})
		}
	}

	var stream []wsF
	for _, n := range []int{0, 1, 125, 126, 127, 128, 1000, 65535, 65536, 200000} {
		stream = append(stream, wsF{op: ws.OpText, fin: true, p: wsASCII()[:n]}, bin(wsBinary()[:n]))
	}
	add(wsCase{name: "1.3 all sizes in one stream random chunks", chop: chopRandom, send: stream, want: stream, close: wsOpen})
	add(wsCase{name: "1.4 all sizes in one stream whole", send: stream, want: stream, close: wsOpen})

	// 2 ping/pong (RFC 6455 §5.5.2, §5.5.3).
	p125 := bytes.Repeat([]byte("*"), 125)
	binPing := []byte{0x00, 0xff, 0xfe, 0x80, 0xc0, 0x01}
	add(wsCase{name: "2.1 ping empty", send: []wsF{ctl(ws.OpPing, nil)}, want: []wsF{ctl(ws.OpPong, nil)}, close: wsOpen})
	add(wsCase{name: "2.2 ping 125 bytes", send: []wsF{ctl(ws.OpPing, p125)}, want: []wsF{ctl(ws.OpPong, p125)}, close: wsOpen})
	add(wsCase{name: "2.3 ping binary payload", send: []wsF{ctl(ws.OpPing, binPing)}, want: []wsF{ctl(ws.OpPong, binPing)}, close: wsOpen})
	add(wsCase{name: "2.4 ping 126 bytes", send: []wsF{text("before"), ctl(ws.OpPing, bytes.Repeat([]byte("*"), 126))}, want: []wsF{text("before")}, close: 1002})
	add(wsCase{name: "2.5 unsolicited pong ignored", send: []wsF{ctl(ws.OpPong, []byte("unasked")), text("after")}, want: []wsF{text("after")}, close: wsOpen})
	add(wsCase{name: "2.6 ping bytewise", chop: chopByte, send: []wsF{ctl(ws.OpPing, []byte("hello, bytewise"))}, want: []wsF{ctl(ws.OpPong, []byte("hello, bytewise"))}, close: wsOpen})
	var pings, pongs []wsF
	for i := range 10 {
		p := []byte("ping " + strconv.Itoa(i))
		pings = append(pings, ctl(ws.OpPing, p))
		pongs = append(pongs, ctl(ws.OpPong, p))
	}
	add(wsCase{name: "2.7 ten pings in order", send: pings, want: pongs, close: wsOpen})
	add(wsCase{name: "2.8 ten pings in order random chunks", chop: chopRandom, send: pings, want: pongs, close: wsOpen})

	// 3 reserved bits without an extension (RFC 6455 §5.2): the frames
	// before the bad one are answered, then 1002.
	for _, rsv := range []byte{ws.Rsv1, ws.Rsv2, ws.Rsv3} {
		for _, f := range []wsF{text("bad"), bin([]byte("bad")), ctl(ws.OpPing, []byte("bad")), ctl(ws.OpClose, closeP(1000, ""))} {
			f.rsv = rsv
			add(wsCase{name: fmt.Sprintf("3 rsv%d on %v", wsRsvNum[rsv], f.op),
				send: []wsF{text("good"), f}, want: []wsF{text("good")}, close: 1002})
		}
	}

	// 4 reserved opcodes (RFC 6455 §5.2).
	for _, op := range []ws.Opcode{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		add(wsCase{name: fmt.Sprintf("4 opcode %#x", byte(op)), send: []wsF{{op: op, fin: true, p: []byte("x")}}, close: 1002})
		add(wsCase{name: fmt.Sprintf("4 opcode %#x after a message", byte(op)), send: []wsF{text("ok"), {op: op, fin: true}}, want: []wsF{text("ok")}, close: 1002})
	}

	// 5 fragmentation (RFC 6455 §5.4).
	add(wsCase{name: "5.1 text in 2 fragments", send: []wsF{frag(ws.OpText, "frag"), final(ws.OpContinuation, "ment")}, want: []wsF{text("fragment")}, close: wsOpen})
	add(wsCase{name: "5.2 binary in 2 fragments", send: []wsF{frag(ws.OpBinary, "\x00\x01"), final(ws.OpContinuation, "\x02")}, want: []wsF{bin([]byte{0, 1, 2})}, close: wsOpen})
	many := wsASCII()[:3000]
	add(wsCase{name: "5.3 text in many fragments", send: fragments(ws.OpText, many, 100), want: []wsF{{op: ws.OpText, fin: true, p: many}}, close: wsOpen})
	add(wsCase{name: "5.4 binary in many fragments random chunks", chop: chopRandom, send: fragments(ws.OpBinary, wsBinary()[:70000], 7000), want: []wsF{bin(wsBinary()[:70000])}, close: wsOpen})
	add(wsCase{name: "5.5 1-byte fragments", send: fragments(ws.OpText, []byte("one byte each"), 1), want: []wsF{text("one byte each")}, close: wsOpen})
	add(wsCase{name: "5.6 empty fragments", send: []wsF{frag(ws.OpText, ""), frag(ws.OpContinuation, "a"), frag(ws.OpContinuation, ""), final(ws.OpContinuation, "")}, want: []wsF{text("a")}, close: wsOpen})
	add(wsCase{name: "5.7 ping and pong between fragments", send: []wsF{frag(ws.OpText, "a"), ctl(ws.OpPing, []byte("p1")), frag(ws.OpContinuation, "b"), ctl(ws.OpPong, []byte("unasked")), frag(ws.OpContinuation, "c"), ctl(ws.OpPing, []byte("p2")), final(ws.OpContinuation, "d")},
		want: []wsF{ctl(ws.OpPong, []byte("p1")), ctl(ws.OpPong, []byte("p2")), text("abcd")}, close: wsOpen})
	add(wsCase{name: "5.8 ping between fragments bytewise", chop: chopByte, send: []wsF{frag(ws.OpBinary, "ab"), ctl(ws.OpPing, []byte("mid")), final(ws.OpContinuation, "cd")},
		want: []wsF{ctl(ws.OpPong, []byte("mid")), bin([]byte("abcd"))}, close: wsOpen})
	add(wsCase{name: "5.9 continuation without start", send: []wsF{final(ws.OpContinuation, "x")}, close: 1002})
	add(wsCase{name: "5.10 continuation after a whole message", send: []wsF{text("whole"), frag(ws.OpContinuation, "x")}, want: []wsF{text("whole")}, close: 1002})
	add(wsCase{name: "5.11 text inside fragmented text", send: []wsF{frag(ws.OpText, "a"), text("b")}, close: 1002})
	add(wsCase{name: "5.12 binary inside fragmented text", send: []wsF{frag(ws.OpText, "a"), frag(ws.OpBinary, "b"), final(ws.OpContinuation, "c")}, close: 1002})
	add(wsCase{name: "5.13 fragmented ping", send: []wsF{text("ok"), {op: ws.OpPing, p: []byte("a")}, final(ws.OpContinuation, "b")}, want: []wsF{text("ok")}, close: 1002})
	add(wsCase{name: "5.14 fragmented close", send: []wsF{{op: ws.OpClose, p: closeP(1000, "")}}, close: 1002})
	add(wsCase{name: "5.15 fragmented pong", send: []wsF{{op: ws.OpPong, p: []byte("a")}}, close: 1002})
	endless := fragments(ws.OpText, bytes.Repeat([]byte("a"), 1001), 1)
	endless[len(endless)-1].fin = false
	add(wsCase{name: "5.16 1-byte fragments that never end reach the cap", path: "/small", send: endless, close: 1009})
	empties := []wsF{frag(ws.OpBinary, "")}
	for range ws.DefaultMaxFragments {
		empties = append(empties, frag(ws.OpContinuation, ""))
	}
	add(wsCase{name: "5.17 empty fragments that never end reach the fragment cap", send: empties, close: 1009})

	// 6 UTF-8 (RFC 6455 §8.1, RFC 3629).
	for _, s := range []struct{ name, s string }{
		{"2-byte", "\u00e4\u00f6\u00fc \u03ba\u1f79\u03c3\u03bc\u03b5"},
		{"3-byte", "\u20ac \u4e16\u754c \ufffd\uffff"},
		{"4-byte", "\U0001F600 \U00010000 \U0010FFFF"},
		{"mixed", "a\u00e9\u20ac\U0001F600z"},
	} {
		add(wsCase{name: "6.1 valid " + s.name, send: []wsF{text(s.s)}, want: []wsF{text(s.s)}, close: wsOpen})
		add(wsCase{name: "6.1 valid " + s.name + " bytewise", chop: chopByte, send: []wsF{text(s.s)}, want: []wsF{text(s.s)}, close: wsOpen})
		var send, want []wsF
		for i := 1; i < len(s.s); i++ {
			send = append(send, frag(ws.OpText, s.s[:i]), final(ws.OpContinuation, s.s[i:]))
			want = append(want, text(s.s))
		}
		add(wsCase{name: "6.2 valid " + s.name + " split at every offset", send: send, want: want, close: wsOpen})
		add(wsCase{name: "6.3 valid " + s.name + " 1-byte fragments", send: fragments(ws.OpText, []byte(s.s), 1), want: []wsF{text(s.s)}, close: wsOpen})
	}
	for _, s := range []struct{ name, s string }{
		{"overlong C0 AF", "ok\xc0\xafok"},
		{"overlong E0 80 AF", "\xe0\x80\xaf"},
		{"surrogate ED A0 80", "a\xed\xa0\x80b"},
		{"above U+10FFFF F4 90 80 80", "\xf4\x90\x80\x80"},
		{"F5", "x\xf5\x80\x80\x80"},
		{"lone continuation 80", "\x80"},
		{"truncated at message end", "abc\xe2\x82"},
		{"truncated 4-byte at message end", "\xf0\x9f\x98"},
	} {
		add(wsCase{name: "6.4 invalid " + s.name, send: []wsF{text("good"), text(s.s)}, want: []wsF{text("good")}, close: 1007})
		add(wsCase{name: "6.5 invalid " + s.name + " in 1-byte fragments", send: fragments(ws.OpText, []byte(s.s), 1), close: 1007})
	}
	add(wsCase{name: "6.6 binary is not checked", send: []wsF{bin([]byte("\xc0\xaf\xed\xa0\x80"))}, want: []wsF{bin([]byte("\xc0\xaf\xed\xa0\x80"))}, close: wsOpen})
	add(wsCase{name: "6.7 fail fast in the first fragment", run: func(t *testing.T, c *wsTestConn) {
		// The first fragment of a long text is already invalid: the close
		// must come while the rest of the message is still unsent.
		c.sendFrames(chopWhole, frag(ws.OpText, "valid start \xed\xa0\x80 then more"))
		c.expectClose(1007)
		_ = c.tryWrite(c.encode(nil, final(ws.OpContinuation, strings.Repeat("x", 1<<16))), chopWhole)
	}})
	add(wsCase{name: "6.8 fail fast inside one frame", run: func(t *testing.T, c *wsTestConn) {
		// Header of a 64 KiB text frame and its first bytes only.
		f := c.encode(nil, text(strings.Repeat("\xc0", 1<<16)))
		c.writeStream(f[:ws.HeaderSize(ws.Header{Masked: true, Length: 1 << 16})+16], chopWhole)
		c.expectClose(1007)
	}})

	// 7 close (RFC 6455 §5.5.1, §7.4).
	add(wsCase{name: "7.1 empty close", send: []wsF{ctl(ws.OpClose, nil)}, close: wsEmptyClose})
	add(wsCase{name: "7.2 data after close is ignored", send: []wsF{text("before"), ctl(ws.OpClose, closeP(1000, "")), text("after"), ctl(ws.OpPing, []byte("after"))}, want: []wsF{text("before")}, close: 1000})
	add(wsCase{name: "7.3 close bytewise", chop: chopByte, send: []wsF{ctl(ws.OpClose, closeP(1001, "going"))}, close: 1001})
	for _, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		add(wsCase{name: fmt.Sprintf("7.4 close %d echoed", code), send: []wsF{ctl(ws.OpClose, closeP(code, ""))}, close: int(code)})
	}
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		add(wsCase{name: fmt.Sprintf("7.5 close %d invalid", code), send: []wsF{ctl(ws.OpClose, closeP(code, ""))}, close: 1002})
	}
	add(wsCase{name: "7.6 close 1-byte payload", send: []wsF{ctl(ws.OpClose, []byte{0x03})}, close: 1002})
	add(wsCase{name: "7.7 close reason 123 bytes", send: []wsF{ctl(ws.OpClose, closeP(1000, strings.Repeat("r", 123)))}, close: 1000})
	add(wsCase{name: "7.8 close reason multi-byte", send: []wsF{ctl(ws.OpClose, closeP(3000, "\u00e9\u20ac\U0001F600"))}, close: 3000})
	add(wsCase{name: "7.9 close reason invalid UTF-8", send: []wsF{ctl(ws.OpClose, closeP(1000, "bad \xed\xa0\x80"))}, close: 1007})
	add(wsCase{name: "7.10 close inside a fragmented message", send: []wsF{frag(ws.OpText, "unfinished"), ctl(ws.OpClose, closeP(1000, ""))}, close: 1000})

	// 9 large messages with a 16 MiB cap, one frame and 64 KiB fragments.
	for _, n := range []int{1 << 20, 4 << 20, 16 << 20} {
		for _, op := range []ws.Opcode{ws.OpText, ws.OpBinary} {
			p := wsBinary()[:n]
			if op == ws.OpText {
				p = wsTextBuf()[:n]
			}
			w := []wsF{{op: op, fin: true, p: p}}
			heavy := n > 1<<20
			add(wsCase{name: fmt.Sprintf("9.1 %v %d MiB one frame", op, n>>20), path: "/big", send: w, want: w, close: wsOpen, heavy: heavy})
			add(wsCase{name: fmt.Sprintf("9.2 %v %d MiB 64 KiB fragments", op, n>>20), path: "/big", send: fragments(op, p, 64<<10), want: w, close: wsOpen, heavy: heavy})
		}
	}
	over := ws.AppendHeader(nil, ws.Header{Fin: true, Op: ws.OpBinary, Masked: true, Mask: [4]byte{9, 8, 7, 6}, Length: 16<<20 + 1})
	add(wsCase{name: "9.3 16 MiB + 1 declared: 1009 before the payload", path: "/big", send: []wsF{{raw: over}}, close: 1009})
	sixteen := fragments(ws.OpBinary, wsBinary()[:16<<20], 1<<20)
	sixteen[len(sixteen)-1].fin = false
	add(wsCase{name: "9.4 16 MiB + 1 in fragments", path: "/big", send: append(sixteen, wsF{op: ws.OpContinuation, fin: true, p: []byte{1}}), close: 1009, heavy: true})
	add(wsCase{name: "9.5 64-bit length with the top bit set", send: []wsF{{raw: []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}}}, close: 1002})
	add(wsCase{name: "9.6 unmasked frame", send: []wsF{{raw: ws.AppendFrame(nil, ws.OpText, true, 0, []byte("x"))}}, close: 1002})

	// 12/13 permessage-deflate (RFC 7692).
	type offer struct {
		name, path, ext string
		want            *ws.DeflateParams // nil: declined
	}
	dp := func(snc, cnc bool, sb, cb int) *ws.DeflateParams {
		return &ws.DeflateParams{ServerNoContextTakeover: snc, ClientNoContextTakeover: cnc, ServerMaxWindowBits: sb, ClientMaxWindowBits: cb}
	}
	offers := []offer{
		{"plain", "/deflate", "permessage-deflate", dp(false, false, 15, 15)},
		{"client_no_context_takeover", "/deflate", "permessage-deflate; client_no_context_takeover", dp(false, true, 15, 15)},
		{"server_no_context_takeover", "/deflate", "permessage-deflate; server_no_context_takeover", dp(true, false, 15, 15)},
		{"both no_context_takeover", "/deflate", "permessage-deflate; server_no_context_takeover; client_no_context_takeover", dp(true, true, 15, 15)},
		{"client_max_window_bits", "/deflate", "permessage-deflate; client_max_window_bits", dp(false, false, 15, 15)},
		{"client_max_window_bits=10", "/deflate", "permessage-deflate; client_max_window_bits=10", dp(false, false, 15, 10)},
		{"client_max_window_bits quoted", "/deflate", `permessage-deflate; client_max_window_bits="12"`, dp(false, false, 15, 12)},
		{"unknown param then plain", "/deflate", "permessage-deflate; foo=1, permessage-deflate", dp(false, false, 15, 15)},
		{"duplicate param then next", "/deflate", "permessage-deflate; server_no_context_takeover; server_no_context_takeover, permessage-deflate; client_no_context_takeover", dp(false, true, 15, 15)},
		{"bits 7 then next", "/deflate", "permessage-deflate; server_max_window_bits=7, permessage-deflate; server_max_window_bits=12", dp(false, false, 12, 15)},
		{"bits 16 then next", "/deflate", "permessage-deflate; client_max_window_bits=16, permessage-deflate; server_no_context_takeover", dp(true, false, 15, 15)},
		{`bits "x" then next`, "/deflate", "permessage-deflate; server_max_window_bits=x, permessage-deflate; server_max_window_bits=11", dp(false, false, 11, 15)},
		{"other extension first", "/deflate", "x-webkit-foo, permessage-deflate; client_max_window_bits", dp(false, false, 15, 15)},
		{"only invalid offers", "/deflate", "permessage-deflate; server_max_window_bits=16, permessage-deflate; bar", nil},
		{"strict server plain", "/deflate-strict", "permessage-deflate", dp(true, true, 10, 15)},
		{"strict server client bits", "/deflate-strict", "permessage-deflate; client_max_window_bits", dp(true, true, 10, 11)},
		{"strict server smaller bits", "/deflate-strict", "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9", dp(true, true, 9, 9)},
	}
	for bits := 9; bits <= 15; bits++ {
		offers = append(offers, offer{fmt.Sprintf("server_max_window_bits=%d", bits), "/deflate",
			fmt.Sprintf("permessage-deflate; server_max_window_bits=%d; client_max_window_bits", bits), dp(false, false, bits, 15)})
	}
	for _, o := range offers {
		add(wsCase{name: "12 deflate " + o.name, path: o.path, hdrs: []string{"Sec-WebSocket-Extensions: " + o.ext}, run: func(t *testing.T, c *wsTestConn) {
			if o.want == nil {
				if c.deflate {
					t.Fatalf("offer %q accepted: %+v; want declined", o.ext, c.params)
				}
				c.sendFrames(chopWhole, text("plain"))
				c.expect(0, text("plain"))
				c.finish()
				return
			}
			if !c.deflate || c.params != *o.want {
				t.Fatalf("offer %q: accepted %v %+v; want %+v", o.ext, c.deflate, c.params, *o.want)
			}
			wsDeflateEcho(t, c)
		}})
	}
	add(wsCase{name: "13 deflate fragmented compressed messages", path: "/deflate", hdrs: []string{"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"}, run: func(t *testing.T, c *wsTestConn) {
		for i, n := range []int{10, 5000, 200000} {
			p := wsWords(n, uint64(i))
			z := c.compress(p)
			fs := fragments(ws.OpText, z, max(1, len(z)/5))
			fs[0].rsv = ws.Rsv1
			c.sendFrames(chopRandom, fs...)
			c.expect(i, text(string(p)))
		}
		c.finish()
	}})
	add(wsCase{name: "13 deflate control frames between compressed fragments", path: "/deflate", hdrs: []string{"Sec-WebSocket-Extensions: permessage-deflate"}, run: func(t *testing.T, c *wsTestConn) {
		p := wsWords(20000, 3)
		z := c.compress(p)
		fs := fragments(ws.OpText, z, len(z)/3+1)
		fs[0].rsv = ws.Rsv1
		send := []wsF{fs[0], ctl(ws.OpPing, []byte("p1")), fs[1], ctl(ws.OpPong, []byte("u")), ctl(ws.OpPing, []byte("p2"))}
		send = append(send, fs[2:]...)
		c.sendFrames(chopByte, send...)
		c.expect(0, ctl(ws.OpPong, []byte("p1")))
		c.expect(1, ctl(ws.OpPong, []byte("p2")))
		c.expect(2, text(string(p)))
		c.finish()
	}})
	add(wsCase{name: "13 deflate uncompressed messages mixed in", path: "/deflate", hdrs: []string{"Sec-WebSocket-Extensions: permessage-deflate"}, run: func(t *testing.T, c *wsTestConn) {
		p := wsWords(3000, 9)
		c.sendFrames(chopWhole, text(string(p)))
		c.expect(0, text(string(p)))
		c.sendFrames(chopWhole, wsF{op: ws.OpText, fin: true, rsv: ws.Rsv1, p: c.compress(p)})
		c.expect(1, text(string(p)))
		c.finish()
	}})
	add(wsCase{name: "13 deflate invalid UTF-8 after inflating", path: "/deflate", hdrs: []string{"Sec-WebSocket-Extensions: permessage-deflate"}, run: func(t *testing.T, c *wsTestConn) {
		c.sendFrames(chopWhole, wsF{op: ws.OpText, fin: true, rsv: ws.Rsv1, p: c.compress([]byte("abc \xed\xa0\x80"))})
		c.expectClose(1007)
	}})
	add(wsCase{name: "13 deflate corrupt stream", path: "/deflate", hdrs: []string{"Sec-WebSocket-Extensions: permessage-deflate"}, run: func(t *testing.T, c *wsTestConn) {
		c.sendFrames(chopWhole, wsF{op: ws.OpBinary, fin: true, rsv: ws.Rsv1, p: []byte{0xff, 0xff, 0xff, 0xff}})
		c.expectClose(1007)
	}})
	for _, f := range []wsF{
		{op: ws.OpContinuation, fin: true, rsv: ws.Rsv1, p: []byte("x")},
		{op: ws.OpPing, fin: true, rsv: ws.Rsv1},
		{op: ws.OpPong, fin: true, rsv: ws.Rsv1},
		{op: ws.OpClose, fin: true, rsv: ws.Rsv1, p: closeP(1000, "")},
		{op: ws.OpText, fin: true, rsv: ws.Rsv2, p: []byte("x")},
	} {
		add(wsCase{name: fmt.Sprintf("13 deflate rsv%d on %v", wsRsvNum[f.rsv], f.op), path: "/deflate", hdrs: []string{"Sec-WebSocket-Extensions: permessage-deflate"},
			run: func(t *testing.T, c *wsTestConn) {
				first := wsF{op: ws.OpBinary, p: []byte("x")} // starts a message so the continuation is legal but for RSV1
				if f.op != ws.OpContinuation {
					first.fin = true
				}
				c.sendFrames(chopWhole, first, f)
				if first.fin {
					c.expect(0, bin([]byte("x")))
				}
				c.expectClose(1002)
			}})
	}
	add(wsCase{name: "13 deflate inflate bomb", path: "/bomb", hdrs: []string{"Sec-WebSocket-Extensions: permessage-deflate"}, run: func(t *testing.T, c *wsTestConn) { wsInflateBomb(t, c, 0) }, heavy: true})
	add(wsCase{name: "13 deflate inflate bomb in 4 KiB fragments", path: "/bomb", hdrs: []string{"Sec-WebSocket-Extensions: permessage-deflate"}, run: func(t *testing.T, c *wsTestConn) { wsInflateBomb(t, c, 4<<10) }, heavy: true})
	return cs
}

// compress returns p compressed as one message with the client's params.
func (c *wsTestConn) compress(p []byte) []byte {
	c.t.Helper()
	z, err := c.comp.Compress(nil, p)
	if err != nil {
		c.t.Fatalf("Compress: %v", err)
	}
	return z
}

// wsDeflateEcho echoes compressed text messages of 1 B to 1 MiB, then the
// 64 KiB one again (with context takeover it now compresses to a few bytes
// that refer to the previous message) and 64 KiB of incompressible binary.
func wsDeflateEcho(t *testing.T, c *wsTestConn) {
	var msgs []wsF
	sizes := []int{1, 64, 1 << 10, 64 << 10, 1 << 20}
	if raceEnabled {
		// 64 KiB already spans the largest window (32 KiB); the 1 MiB
		// message runs in the pass without the race detector.
		sizes = sizes[:4]
	}
	for _, n := range sizes {
		msgs = append(msgs, wsF{op: ws.OpText, fin: true, p: wsWords(n, uint64(n))})
	}
	msgs = append(msgs, msgs[3], bin(wsBinary()[:64<<10]))
	for i, m := range msgs {
		z := c.compress(m.p)
		c.sendFrames(chopWhole, wsF{op: m.op, fin: true, rsv: ws.Rsv1, p: z})
		c.expect(i, m)
	}
	c.finish()
}

// wsInflateBomb sends 64 MiB of zeros compressed to about 64 KiB to an
// endpoint capped at 1 MiB, in one frame or in fragments of fragSize:
// 1009, and the server's heap stays bounded.
func wsInflateBomb(t *testing.T, c *wsTestConn, fragSize int) {
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestSpeed)
	zeros := make([]byte, 64<<10)
	for range 1024 {
		fw.Write(zeros)
	}
	fw.Flush()
	payload := bytes.TrimSuffix(z.Bytes(), []byte{0, 0, 0xff, 0xff})
	if len(payload) > 1<<20 {
		t.Fatalf("bomb compresses to %d bytes; want under the 1 MiB cap", len(payload))
	}
	fs := []wsF{{op: ws.OpBinary, fin: true, p: payload}}
	if fragSize > 0 {
		fs = fragments(ws.OpBinary, payload, fragSize)
	}
	fs[0].rsv = ws.Rsv1
	var frame []byte
	for _, f := range fs {
		frame = c.encode(frame, f)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c.writeStream(frame, chopWhole)
	h, p, err := c.next()
	runtime.ReadMemStats(&after)
	if err != nil || h.Op != ws.OpClose || !bytes.Equal(p, closeP(1009, "")) {
		t.Fatalf("bomb: %v %v %x; want close 1009", err, h.Op, p)
	}
	if !c.closedByPeer(5 * time.Second) {
		t.Fatal("connection open after the close frame; want EOF")
	}
	// Inflating would take 64 MiB; the server may use about the cap. The
	// client allocates almost nothing in this window, so TotalAlloc, which
	// a collection cannot lower, bounds what the server allocated.
	grow := int64(after.HeapInuse) - int64(before.HeapInuse)
	total := after.TotalAlloc - before.TotalAlloc
	t.Logf("heap in use %+d bytes, %d bytes allocated", grow, total)
	if grow > 16<<20 || total > 16<<20 {
		t.Errorf("bomb: heap in use grew by %d bytes, %d bytes allocated; want both < 16 MiB", grow, total)
	}
}

func TestWSCases(t *testing.T) {
	srv := wsCaseServer(t)
	cases := wsCases()
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) { runWSCase(t, srv, tc) })
	}
	t.Logf("%d cases", len(cases))
}

// wsRsvNum names the RSV bits as the RFC numbers them.
var wsRsvNum = map[byte]int{ws.Rsv1: 1, ws.Rsv2: 2, ws.Rsv3: 3}

func TestWSFramesWithHandshake(t *testing.T) {
	srv := wsCaseServer(t)
	rc := dial(t, srv)
	c := &wsTestConn{wsClient: &wsClient{rc}, t: t, rng: rand.New(rand.NewPCG(1, 1))}
	c.fp.Config.RejectMask = true
	// The handshake and two frames in one write, so in one TCP segment.
	b := []byte(req("GET", "/echo", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: "+wsKey, "Sec-WebSocket-Version: 13"))
	b = c.encode(b, text("right behind the handshake"))
	b = c.encode(b, ctl(ws.OpPing, []byte("and a ping")))
	c.writeStream(b, chopWhole)
	rc.c.SetReadDeadline(time.Now().Add(wsCaseTimeout))
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: "GET"})
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake = %v, %v; want 101", resp, err)
	}
	c.expect(0, text("right behind the handshake"))
	c.expect(1, ctl(ws.OpPong, []byte("and a ping")))
	c.finish()
}

func TestWSSendAsyncAndClientInfo(t *testing.T) {
	srv := startTest(t, Config{})
	ids := make(chan SessionID, 1)
	kinds := make(chan ClientKind, 1)
	wsEcho(t, srv, URIHandler{Handler: func(r *Request) error {
		if r.IsWSHandshake() {
			id := r.Session().ID()
			kinds <- srv.ClientInfo(id) // not upgraded yet
			ids <- id
			return nil
		}
		f, _ := r.WSFrame()
		return r.WSSend(f)
	}})
	c := wsCaseDial(t, srv, "/ws")
	id := <-ids
	if k := <-kinds; k != ClientHTTP {
		t.Errorf("ClientInfo during the handshake = %v; want %v", k, ClientHTTP)
	}
	if k := srv.ClientInfo(id); k != ClientWebSocket {
		t.Errorf("ClientInfo after the upgrade = %v; want %v", k, ClientWebSocket)
	}

	const senders, each = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				f := WSFrame{Type: WSText, Payload: []byte(fmt.Sprintf("%d:%d", g, i))}
				for {
					err := srv.WSSendAsync(id, f)
					if err == nil {
						break
					}
					if !errors.Is(err, ErrQueueFull) {
						errs <- err
						return
					}
					runtime.Gosched()
				}
			}
		}()
	}
	// Read while the senders run: every frame arrives, each sender's in order.
	next := make([]int, senders)
	for n := 0; n < senders*each; n++ {
		h, p, err := c.next()
		if err != nil || h.Op != ws.OpText {
			t.Fatalf("async frame %d = %v %q, %v; want text", n, h.Op, p, err)
		}
		var g, i int
		if _, err := fmt.Sscanf(string(p), "%d:%d", &g, &i); err != nil || g < 0 || g >= senders || i != next[g] {
			t.Fatalf("async frame %d = %q; want sender %d's message %d", n, p, g, next[min(max(g, 0), senders-1)])
		}
		next[g]++
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("WSSendAsync: %v", err)
	}
	// An async close frame starts the closing handshake from the server.
	if err := srv.WSSendAsync(id, WSCloseFrame(4001, "async")); err != nil {
		t.Fatalf("WSSendAsync(close) = %v", err)
	}
	h, p, err := c.next()
	if err != nil || h.Op != ws.OpClose || !bytes.Equal(p, closeP(4001, "async")) {
		t.Fatalf("close = %v %q, %v; want close 4001 \"async\"", h.Op, p, err)
	}
	if !c.closedByPeer(5 * time.Second) {
		t.Fatal("no EOF after the server's close")
	}
	c.c.Close()
	waitFor(t, "the session to close", 10*time.Second, func() bool { return srv.ClientInfo(id) == ClientInvalid })
	if err := srv.WSSendAsync(id, WSFrame{Type: WSText, Payload: []byte("late")}); !errors.Is(err, ErrStaleSession) {
		t.Errorf("WSSendAsync(stale id) = %v; want %v", err, ErrStaleSession)
	}
}

// wsRecorded is a frame as a handler saw it.
type wsRecorded struct {
	typ               ws.Opcode
	final, fragmented bool
	payload           string
}

func TestWSControlFramesToHandler(t *testing.T) {
	srv := startTest(t, Config{})
	got := make(chan wsRecorded, 16)
	wsEcho(t, srv, URIHandler{HandleWSControlFrames: true, Handler: func(r *Request) error {
		if r.IsWSHandshake() {
			return nil
		}
		f, _ := r.WSFrame()
		got <- wsRecorded{f.Type, f.Final, f.Fragmented, string(f.Payload)}
		switch f.Type {
		case WSPing:
			return r.WSSend(WSFrame{Type: WSPong, Payload: append([]byte("handler:"), f.Payload...)})
		case WSPong:
			return nil
		case WSClose:
			if string(f.Payload[2:]) == "handler answers" {
				return r.WSSend(WSCloseFrame(4000, "handler"))
			}
			return nil // the server completes the closing handshake
		}
		return r.WSSend(f)
	}})
	for _, tc := range []struct {
		name  string
		close wsF
		want  []byte // the server's close payload
	}{
		{"server echoes", ctl(ws.OpClose, closeP(1000, "bye")), closeP(1000, "")},
		{"handler answers", ctl(ws.OpClose, closeP(1001, "handler answers")), closeP(4000, "handler")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := wsCaseDial(t, srv, "/ws")
			c.sendFrames(chopWhole, ctl(ws.OpPing, []byte("a")))
			c.expect(0, ctl(ws.OpPong, []byte("handler:a")))
			c.sendFrames(chopWhole, ctl(ws.OpPong, []byte("u")), text("t"), tc.close)
			c.expect(1, text("t"))
			h, p, err := c.next()
			if err != nil || h.Op != ws.OpClose || !bytes.Equal(p, tc.want) {
				t.Fatalf("close = %v %x, %v; want close %x", h.Op, p, err, tc.want)
			}
			if !c.closedByPeer(5 * time.Second) {
				t.Fatal("one close frame then EOF expected")
			}
			want := []wsRecorded{
				{WSPing, true, false, "a"},
				{WSPong, true, false, "u"},
				{WSText, true, false, "t"},
				{WSClose, true, false, string(tc.close.p)},
			}
			for i, w := range want {
				select {
				case g := <-got:
					if g != w {
						t.Fatalf("handler frame %d = %+v; want %+v", i, g, w)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("handler frame %d missing; want %+v", i, w)
				}
			}
		})
	}
}

func TestWSFrameDelivery(t *testing.T) {
	srv := startTest(t, Config{})
	got := make(chan wsRecorded, 16)
	wsEcho(t, srv, URIHandler{WSFrames: true, WSMaxMessage: 1 << 16, Handler: func(r *Request) error {
		if r.IsWSHandshake() {
			return nil
		}
		f, _ := r.WSFrame()
		got <- wsRecorded{f.Type, f.Final, f.Fragmented, string(f.Payload)}
		return r.WSSend(f) // echoes the fragmentation too
	}})
	big := string(wsASCII()[:40000])
	for _, chop := range []wsChop{chopWhole, chopByte, chopRandom} {
		t.Run(chop.String(), func(t *testing.T) {
			c := wsCaseDial(t, srv, "/ws")
			send := []wsF{text("whole"), frag(ws.OpText, "ab"), ctl(ws.OpPing, []byte("p")), frag(ws.OpContinuation, "cd"), final(ws.OpContinuation, "ef"),
				frag(ws.OpBinary, big), final(ws.OpContinuation, "")}
			if chop == chopByte {
				send = send[:5] // the 40 KB frame a byte per write is covered by the framing cases
			}
			c.sendFrames(chop, send...)
			echoes := []wsF{text("whole"), frag(ws.OpText, "ab"), ctl(ws.OpPong, []byte("p")), frag(ws.OpContinuation, "cd"), final(ws.OpContinuation, "ef"),
				frag(ws.OpBinary, big), final(ws.OpContinuation, "")}
			want := []wsRecorded{
				{WSText, true, false, "whole"},
				{WSText, false, true, "ab"},
				{WSContinue, false, true, "cd"},
				{WSContinue, true, true, "ef"},
				{WSBinary, false, true, big},
				{WSContinue, true, true, ""},
			}
			if chop == chopByte {
				echoes, want = echoes[:5], want[:4]
			}
			for i, w := range echoes {
				c.expect(i, w)
			}
			for i, w := range want {
				var g wsRecorded
				select {
				case g = <-got:
				case <-time.After(5 * time.Second):
					t.Fatalf("handler frame %d missing; want %v %v %v %s", i, w.typ, w.final, w.fragmented, wsShow([]byte(w.payload)))
				}
				if g != w {
					t.Fatalf("handler frame %d = %v %v %v %s; want %v %v %v %s", i, g.typ, g.final, g.fragmented, wsShow([]byte(g.payload)), w.typ, w.final, w.fragmented, wsShow([]byte(w.payload)))
				}
			}
			c.finish()
		})
	}
}

func TestWSSubprotocolSelection(t *testing.T) {
	srv := startTest(t, Config{})
	wsEcho(t, srv, URIHandler{Subprotocols: []string{"chat", "superchat"}, Handler: func(r *Request) error {
		if r.IsWSHandshake() {
			return nil
		}
		// Echo the chosen subprotocol so the session side is checked too.
		return r.WSSend(WSFrame{Type: WSText, Payload: []byte("proto=" + r.WSSubprotocol())})
	}})
	for _, tc := range []struct {
		name   string
		fields []string
		want   string
	}{
		{"exact", []string{"chat"}, "chat"},
		{"server preference wins", []string{"superchat, chat"}, "chat"},
		{"second supported", []string{"superchat"}, "superchat"},
		{"case differs", []string{"Chat"}, ""},
		{"none supported", []string{"foo, bar"}, ""},
		{"two fields", []string{"foo", "superchat"}, "superchat"},
		{"not offered", nil, ""},
		{"empty", []string{""}, ""},
		{"only commas", []string{",,,"}, ""},
		{"empty elements", []string{" , chat ,, "}, "chat"},
		{"space inside", []string{"a b"}, ""},
		{"malformed with a match", []string{"chat, a b"}, ""},
		{"malformed field with a match in another", []string{"chat", "x y"}, ""},
		{"quoted", []string{`"chat"`}, ""},
		{"separators", []string{"chat;q=1, /, @"}, ""},
		{"long", []string{strings.Repeat("x", 4000) + ", chat"}, "chat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdrs []string
			for _, f := range tc.fields {
				hdrs = append(hdrs, "Sec-WebSocket-Protocol: "+f)
			}
			c := wsCaseDial(t, srv, "/ws", hdrs...)
			if got := c.resp.Header.Get("Sec-WebSocket-Protocol"); got != tc.want {
				t.Fatalf("Sec-WebSocket-Protocol for %q = %q; want %q", tc.fields, got, tc.want)
			}
			if _, ok := c.resp.Header["Sec-Websocket-Protocol"]; ok && tc.want == "" {
				t.Fatalf("Sec-WebSocket-Protocol sent empty for %q", tc.fields)
			}
			c.sendFrames(chopWhole, text("?"))
			c.expect(0, text("proto="+tc.want))
			c.finish()
		})
	}
}

func TestWSHandshakeRefusedByHandler(t *testing.T) {
	srv := startTest(t, Config{})
	upgraded := make(chan bool, 4)
	wsEcho(t, srv, URIHandler{Handler: func(r *Request) error {
		if r.IsWSHandshake() {
			switch string(r.Header("X-Refuse")) {
			case "403":
				return r.SendErr(403, "no WebSocket for you")
			case "error":
				return errors.New("handler failed")
			}
			return nil
		}
		upgraded <- true
		f, _ := r.WSFrame()
		return r.WSSend(f)
	}})
	hdrs := []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + wsKey, "Sec-WebSocket-Version: 13"}
	for _, tc := range []struct {
		name, refuse string
		status       int
		keep         bool
	}{
		{"reply refuses", "403", 403, true},
		{"error refuses", "error", 500, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := dial(t, srv)
			c := &wsTestConn{wsClient: &wsClient{rc}, t: t, rng: rand.New(rand.NewPCG(2, 2))}
			// A frame right behind the refused handshake must be read as
			// HTTP, never as WebSocket.
			b := []byte(req("GET", "/ws", append(hdrs, "X-Refuse: "+tc.refuse)...))
			b = c.encode(b, text("not a request"))
			c.writeStream(b, chopWhole)
			resp := rc.response("GET")
			if resp.StatusCode != tc.status || resp.Header.Get("Upgrade") != "" || resp.Header.Get("Sec-WebSocket-Accept") != "" {
				t.Fatalf("refused handshake = %d %v; want %d without upgrade headers", resp.StatusCode, resp.Header, tc.status)
			}
			if tc.keep {
				// Still HTTP: the frame bytes are a bad request now.
				if resp := rc.response("GET"); resp.StatusCode != 400 {
					t.Fatalf("bytes after the refusal = %d; want 400", resp.StatusCode)
				}
			}
			if !rc.closedByPeer(5 * time.Second) {
				t.Fatal("connection open after the error reply; want EOF")
			}
			select {
			case <-upgraded:
				t.Fatal("the handler got a WebSocket message after refusing the upgrade")
			default:
			}
		})
	}
}
