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
//   - Reader assembles what a connection receives into messages (or frames)
//     and control frames, with the same consumed-bytes / ErrNeedMore
//     contract as codec/http's Parser: it drives the parser, the sequencer,
//     unmasking, UTF-8 validation, close payload checks and inflating, with
//     buffers from a BufferPool; a message that arrives whole is delivered
//     in place.
//   - §4.2.1, §4.2.2 opening handshake: CheckHandshake (a *HandshakeError
//     with the HTTP status and reason per refused rule), CheckOrigin,
//     AppendAccept (the 101 head), AcceptKey, ValidKey, SelectSubprotocol,
//     HasToken.
//   - RFC 7692 permessage-deflate: NegotiateDeflate (§5, §7.1), Compressor and
//     Decompressor (§7.2), RSV1 handling (§6).
//
// Every error the peer can cause is a *ProtocolError carrying the close code
// to send (CloseCode, errors.As), and each RFC violation has its own
// pre-allocated value (errors.Is).
//
// Memory: the parser, sequencer and validator are a few dozen bytes each and
// hold no buffers. Compressor and Decompressor take their flate state from
// sync.Pools for the duration of one call, so an idle connection holds none;
// under context takeover each keeps the last 2^window_bits bytes of its
// direction's plaintext (32 KiB at the default 15 bits) as a pooled
// dictionary until Release. DeflateConfig's no_context_takeover switches
// avoid that cost.
//
// A server reading messages from the bytes b its connection holds:
//
//	var r ws.Reader
//	r.Init(ws.ReaderConfig{MaxMessage: 1 << 20})
//	n, m, err := r.Read(b)
//	switch {
//	case err == ws.ErrNeedMore:
//		// n bytes were used and kept by r: drop them, read more
//	case err != nil:
//		code, _ := ws.CloseCode(err)
//		out = ws.AppendClose(out, code, "")
//	default:
//		// m.Op, m.Payload (valid until the next Read); then drop n bytes
//	}
//
// The same with the lower-level pieces, a frame at a time:
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
//		code, _ := ws.CloseCode(err)
//		out = ws.AppendClose(out, code, "")
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
