package httpd

import (
	"bytes"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/evhttpd/httpd/codec/ws"
)

// BenchmarkWSDriver is the per-message path of an upgraded session on the
// loop, like BenchmarkDriver for requests: frame header, unmasking, UTF-8,
// message assembly or inflating, the handler's echo and the reply frame;
// not the engine or syscalls. depth messages arrive per event.
func BenchmarkWSDriver(b *testing.B) {
	for _, size := range []int{64, 1 << 10, 16 << 10} {
		for _, depth := range []int{1, 16} {
			b.Run("text"+strconv.Itoa(size)+"/depth="+strconv.Itoa(depth), func(b *testing.B) {
				benchWS(b, size, depth, 1, false)
			})
		}
		b.Run("text"+strconv.Itoa(size)+"/4-fragments", func(b *testing.B) { benchWS(b, size, 1, 4, false) })
		b.Run("ascii"+strconv.Itoa(size), func(b *testing.B) { benchWS(b, -size, 1, 1, false) })
		b.Run("text"+strconv.Itoa(size)+"/deflate", func(b *testing.B) { benchWS(b, size, 1, 1, true) })
	}
}

// benchWS echoes text messages of size bytes, multi-byte text (the costly
// case for UTF-8 validation) or ASCII when size is negative.
func benchWS(b *testing.B, size, depth, frags int, deflate bool) {
	ascii := size < 0
	size = max(size, -size)
	s, _, err := newServer(Config{EventLoops: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	s.state.Store(stateRunning)
	h := URIHandler{URI: "/ws", Method: "GET", IsWebSocket: true, Handler: func(r *Request) error {
		if r.IsWSHandshake() {
			return nil
		}
		f, _ := r.WSFrame()
		return r.WSSend(WSFrame{Type: f.Type, Payload: f.Payload})
	}}
	hs := "GET /ws HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + wsKey + "\r\nSec-WebSocket-Version: 13\r\n"
	if deflate {
		// No context takeover either way, so the same compressed frame
		// can be sent again and again.
		h.WSDeflate = &ws.DeflateConfig{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
		hs += "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n"
	}
	if err := s.RegisterURIHandler(h); err != nil {
		b.Fatal(err)
	}
	d := driver{s}
	fc := &fakeConn{in: []byte(hs + "\r\n")}
	d.OnOpen(fc)
	d.OnTraffic(fc)
	if c, ok := fc.ctx.(*Session); !ok || c.st != stWS {
		b.Fatal("handshake not accepted")
	}
	// 16-byte units end on a code point boundary: the text stays UTF-8.
	payload := bytes.Repeat([]byte("a\u00e9\u20ac\U0001F600abcdef"), size/16)
	if ascii {
		payload = bytes.Repeat([]byte(`{"k":"v","n":1} `), size/16)
	}
	key := [4]byte{0x5a, 0xa5, 0x3c, 0xc3}
	var msg []byte
	switch {
	case deflate:
		var c ws.Compressor
		z, err := c.Compress(nil, payload)
		if err != nil {
			b.Fatal(err)
		}
		msg = ws.AppendMaskedFrame(nil, ws.OpText, true, ws.Rsv1, key, z)
	default:
		for k := 0; k < frags; k++ {
			op := ws.OpContinuation
			if k == 0 {
				op = ws.OpText
			}
			msg = ws.AppendMaskedFrame(msg, op, k == frags-1, 0, key, payload[size*k/frags:size*(k+1)/frags])
		}
	}
	frames := bytes.Repeat(msg, depth)
	fc.in = make([]byte, len(frames))
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += depth {
		copy(fc.in, frames) // the server unmasks in place
		fc.off = 0
		d.OnTraffic(fc)
	}
	b.StopTimer()
	if fc.off != len(fc.in) {
		b.Fatalf("%d of %d bytes consumed", fc.off, len(fc.in))
	}
}
