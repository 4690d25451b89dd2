package ws_test

import (
	"fmt"
	"sort"
	"strings"

	"github.com/evhttpd/httpd/codec/ws"
)

// A server parses a masked client frame (RFC 6455 §5.7), unmasks the
// payload and answers with an unmasked frame.
func ExampleFrameParser() {
	in := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	var p ws.FrameParser
	p.Config = ws.ParserConfig{RequireMask: true}
	var seq ws.Sequencer
	seq.Init(1 << 20)

	n, h, err := p.ParseHeader(in)
	if err == nil {
		err = seq.Frame(h)
	}
	if err != nil {
		code, _ := ws.CloseCode(err)
		fmt.Printf("close %d\n", code)
		return
	}
	payload := in[n : n+int(h.Length)]
	ws.Mask(h.Mask, 0, payload)
	var v ws.UTF8Validator
	fmt.Println(h.Op, string(payload), v.Write(payload) && v.Done())
	fmt.Printf("% x\n", ws.AppendFrame(nil, ws.OpText, true, 0, payload))
	// Output:
	// text Hello true
	// 81 05 48 65 6c 6c 6f
}

// A failing frame carries the close code to send.
func ExampleCloseCode() {
	var p ws.FrameParser
	p.Config.RequireMask = true
	_, _, err := p.ParseHeader([]byte{0x81, 0x05}) // unmasked
	code, _ := ws.CloseCode(err)
	fmt.Println(err, code, uint16(code))
	fmt.Printf("% x\n", ws.AppendClose(nil, code, ""))
	// Output:
	// ws: unmasked client frame ProtocolError 1002
	// 88 02 03 ea
}

func ExampleNegotiateDeflate() {
	offers := [][]byte{[]byte("permessage-deflate; server_max_window_bits=20, permessage-deflate; client_max_window_bits")}
	p, resp, ok := ws.NegotiateDeflate(offers, ws.DeflateConfig{ClientMaxWindowBits: 12})
	fmt.Println(ok, string(resp))
	fmt.Printf("%+v\n", p)
	// Output:
	// true permessage-deflate; client_max_window_bits=12
	// {ServerNoContextTakeover:false ClientNoContextTakeover:false ServerMaxWindowBits:15 ClientMaxWindowBits:12}
}

// A server reads messages out of what its connection holds, however the
// bytes arrive: here the RFC 6455 §5.7 example "Hel" + "lo" in two
// fragments with a ping between them, delivered in two reads.
func ExampleReader() {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	wire := ws.AppendMaskedFrame(nil, ws.OpText, false, 0, key, []byte("Hel"))
	wire = ws.AppendMaskedFrame(wire, ws.OpPing, true, 0, key, []byte("?"))
	wire = ws.AppendMaskedFrame(wire, ws.OpContinuation, true, 0, key, []byte("lo"))

	var r ws.Reader
	r.Init(ws.ReaderConfig{MaxMessage: 1 << 20})
	var held []byte // bytes received and not yet consumed
	for _, read := range [][]byte{wire[:10], wire[10:]} {
		held = append(held, read...)
		for len(held) > 0 {
			n, m, err := r.Read(held)
			held = held[n:]
			if err == ws.ErrNeedMore {
				break
			}
			if err != nil {
				code, _ := ws.CloseCode(err)
				fmt.Println("close", code)
				return
			}
			fmt.Println(m.Op, string(m.Payload))
		}
	}
	// Output:
	// ping ?
	// text Hello
}

// The opening handshake is checked rule by rule; a refusal carries the
// HTTP status to answer with.
func ExampleCheckHandshake() {
	// A *http.Parser of codec/http is a ws.HandshakeRequest; here a
	// request without Sec-WebSocket-Version.
	req := exampleRequest{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	var h ws.Handshake
	err := ws.CheckHandshake(req, &h)
	status, _ := ws.HandshakeStatus(err)
	fmt.Println(status, err)

	req["Sec-WebSocket-Version"] = "13"
	if err := ws.CheckHandshake(req, &h); err == nil {
		head := ws.AppendAccept(nil, h.Key, "", nil, nil)
		fmt.Print(strings.ReplaceAll(string(head), "\r\n", "\n")) // lines end in CRLF
	}
	// Output:
	// 426 ws: Sec-WebSocket-Version is not 13
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}

// exampleRequest is a GET HTTP/1.1 request without a body and with the
// given header fields, in a fixed order.
type exampleRequest map[string]string

func (exampleRequest) Method() []byte       { return []byte("GET") }
func (exampleRequest) Minor() int           { return 1 }
func (exampleRequest) ContentLength() int64 { return -1 }
func (exampleRequest) Chunked() bool        { return false }
func (r exampleRequest) NumHeaders() int    { return len(r) }
func (r exampleRequest) HeaderAt(i int) (name, value []byte) {
	names := make([]string, 0, len(r))
	for k := range r {
		names = append(names, k)
	}
	sort.Strings(names)
	return []byte(names[i]), []byte(r[names[i]])
}
