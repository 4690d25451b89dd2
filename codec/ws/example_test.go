package ws_test

import (
	"fmt"

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
