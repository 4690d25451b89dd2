package main

import "github.com/evhttpd/httpd/codec/ws"

// echoReader follows the server's frames on one connection across reads
// for the event-driven engine: a frame header may end in one read and its
// payload in a later one, and a payload may span any number of reads. The
// payload bytes are skipped, never copied. The zero value is not ready:
// set fp.Config first (newEchoReader).
type echoReader struct {
	fp         ws.FrameParser // header state, kept across reads
	skip       int64          // payload bytes of the current frame not yet seen
	inPayload  bool           // the header of the current frame is parsed
	control    bool           // the current frame is ping or pong
	fin        bool           // the current frame ends its message
	inMessage  bool           // a data message started and has not ended
	compressed bool           // the current message has RSV1 (RFC 7692 §6)
	total      int64          // payload bytes of the current message so far
}

// newEchoReader returns a reader of server frames: masked frames fail
// (RFC 6455 §5.1) and RSV1 is accepted only with deflate.
func newEchoReader(deflate bool) echoReader {
	return echoReader{fp: ws.FrameParser{Config: ws.ParserConfig{AllowRSV1: deflate, RejectMask: true}}}
}

// feed consumes b, all of it, and returns how many messages ended in it.
// An uncompressed message whose payload is not wantLen bytes long fails
// with errEchoSize (compressed echoes have no predictable length, as in
// the goroutine engine); a close frame fails with errClosed; ping and pong
// frames are skipped. On an error, msgs still counts the messages that
// ended before the bad frame. b is not retained.
func (r *echoReader) feed(b []byte, wantLen int) (msgs int, err error) {
	for {
		if r.inPayload {
			k := min(int64(len(b)), r.skip)
			b = b[k:]
			r.skip -= k
			if r.skip > 0 {
				return msgs, nil
			}
			r.inPayload = false
			if !r.control && r.fin {
				r.inMessage = false
				if !r.compressed && r.total != int64(wantLen) {
					return msgs, errEchoSize
				}
				msgs++
			}
		}
		if len(b) == 0 {
			return msgs, nil
		}
		n, h, err := r.fp.ParseHeader(b)
		if err == ws.ErrNeedMore {
			return msgs, nil
		}
		if err != nil {
			return msgs, err
		}
		b = b[n:]
		switch {
		case h.Op == ws.OpClose:
			return msgs, errClosed
		case h.Op.IsControl():
			r.control = true
		case h.Op.IsData():
			// RFC 6455 §5.4: a new message may not start inside a
			// fragmented one.
			if r.inMessage {
				return msgs, ws.ErrDataInsideFragmented
			}
			r.control, r.inMessage, r.total = false, true, 0
			r.compressed = h.Rsv&ws.Rsv1 != 0
		default: // continuation
			if !r.inMessage {
				return msgs, ws.ErrContinuationWithoutStart
			}
			r.control = false
		}
		if !r.control {
			r.total += h.Length
			// Fail as soon as the header shows the echo is too long.
			if !r.compressed && r.total > int64(wantLen) {
				return msgs, errEchoSize
			}
		}
		r.fin, r.skip, r.inPayload = h.Fin, h.Length, true
	}
}
