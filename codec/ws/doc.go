// Package ws is the WebSocket codec of evhttpd: frame headers, masking,
// fragmentation rules, UTF-8 validation, close payloads, handshake helpers and
// permessage-deflate. It is pure: it never reads or writes a connection, holds
// no goroutines and, apart from permessage-deflate (which uses
// github.com/klauspost/compress/flate), imports only the standard library.
// The server drives it from its event loops; every type here is for use by one
// goroutine at a time.
//
// What it implements:
//
//   - RFC 6455 §5.2 base framing: FrameParser parses headers incrementally
//     (a header split at any byte resumes) and rejects reserved opcodes, RSV
//     bits no extension defines, non-minimal and overflowing lengths;
//     AppendHeader, AppendFrame and AppendMaskedFrame write them.
//   - §5.1, §5.3 masking: Mask, 64 bytes per iteration, resumable at any offset.
//   - §5.4 fragmentation and §5.5 control frames: Sequencer checks frame order
//     and caps messages by declared length (1009) before payload is buffered.
//   - §5.5.1, §7.4 close frames: AppendClose, ParseClosePayload, ValidCloseCode.
//   - §8.1 UTF-8 for text: UTF8Validator keeps its state across fragments and
//     fails at the first impossible byte.
//   - §4.2.1, §4.2.2 opening handshake: AcceptKey, ValidKey, SelectSubprotocol,
//     HasToken.
//   - RFC 7692 permessage-deflate: NegotiateDeflate (§5, §7.1), Compressor and
//     Decompressor (§7.2), RSV1 handling (§6).
//
// Every error the peer can cause is a *ProtocolError carrying the close code
// to send (errors.As), and each RFC violation has its own pre-allocated value
// (errors.Is).
//
// A server reading frames from a buffer b:
//
//	var p ws.FrameParser
//	p.Config = ws.ParserConfig{RequireMask: true}
//	var seq ws.Sequencer
//	seq.Init(1 << 20)
//	n, h, err := p.ParseHeader(b)
//	switch {
//	case err == ws.ErrNeedMore:
//		// wait for more bytes; n bytes were consumed and kept by p
//	case err != nil:
//		var pe *ws.ProtocolError
//		errors.As(err, &pe)
//		out = ws.AppendClose(out, pe.Code, "")
//	default:
//		if err := seq.Frame(h); err != nil { /* close as above */ }
//		payload := b[n : n+int(h.Length)] // once that many bytes are present
//		ws.Mask(h.Mask, 0, payload)
//		out = ws.AppendFrame(out, h.Op, true, 0, payload) // echo
//	}
//
// Slices: functions that append return the extended dst; slices they return
// alias their inputs only where the doc comment says so.
package ws
