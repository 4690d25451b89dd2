package ws

import "encoding/binary"

// Header is a decoded frame header (RFC 6455 §5.2).
type Header struct {
	Fin    bool
	Rsv    byte // RSV1 = 0x4, RSV2 = 0x2, RSV3 = 0x1
	Op     Opcode
	Masked bool
	Mask   [4]byte
	Length int64 // payload length; never negative in a parsed header
}

// RSV bits as they appear in Header.Rsv.
const (
	Rsv1 byte = 0x4 // "Per-Message Compressed" when permessage-deflate is negotiated (RFC 7692 §6)
	Rsv2 byte = 0x2
	Rsv3 byte = 0x1
)

// MaxHeaderSize is the longest frame header: 2 bytes, 8 bytes of extended
// length and a 4-byte masking key.
const MaxHeaderSize = 14

// MaxControlPayload is the largest payload of a control frame (RFC 6455 §5.5).
const MaxControlPayload = 125

// ParserConfig says what FrameParser accepts. The zero value accepts frames
// with or without a mask, no RSV bits, and any length.
type ParserConfig struct {
	// AllowRSV1 permits RSV1 on the first frame of a data message; set it when
	// permessage-deflate was negotiated. Default false: RSV1 fails with 1002.
	AllowRSV1 bool
	// RequireMask fails unmasked frames with 1002; a server sets it
	// (RFC 6455 §5.1). Default false.
	RequireMask bool
	// RejectMask fails masked frames with 1002; a client sets it
	// (RFC 6455 §5.1). Default false.
	RejectMask bool
	// MaxFrameSize fails any frame whose declared payload length is larger,
	// with 1009, before a byte of payload is read. Default 0: no per-frame cap
	// (the Sequencer's message cap still applies).
	MaxFrameSize int64
}

type parseState uint8

const (
	stateFirst  parseState = iota // expecting byte 0: FIN, RSV, opcode
	stateSecond                   // expecting byte 1: MASK, 7-bit length
	stateRest                     // buffering extended length and masking key
	stateFailed                   // a protocol error was returned; sticky until Reset
)

// FrameParser parses frame headers incrementally. A header split at any byte
// boundary, over any number of calls, yields the same result as the header
// passed whole. The zero value is ready and accepts any well-formed frame; set
// Config before the first call. A FrameParser is not safe for concurrent use.
type FrameParser struct {
	Config ParserConfig

	state parseState
	need  uint8 // header size, known once byte 1 is seen
	have  uint8 // header bytes buffered in buf
	buf   [MaxHeaderSize]byte
	err   *ProtocolError
}

// Idle reports whether p holds no partial header and no error: between
// two frames.
func (p *FrameParser) Idle() bool { return p.state == stateFirst && p.have == 0 && p.err == nil }

// Reset discards a partial header and a sticky error; Config is kept.
func (p *FrameParser) Reset() {
	p.state = stateFirst
	p.need, p.have = 0, 0
	p.err = nil
}

// ParseHeader consumes frame header bytes from b.
//
// It returns (n, h, nil) when the header is complete: n bytes of b belonged
// to it, and the payload (h.Length bytes) starts at b[n]. The parser is then
// ready for the next header. It returns (len(b), Header{}, ErrNeedMore) when b
// ended inside the header; those bytes are copied into the parser, so b may be
// reused. It returns (0, Header{}, err) with err a *ProtocolError when the
// header violates RFC 6455; the parser keeps returning that error until Reset.
// The checks run in wire order, so a header gives the same error however it
// is split.
func (p *FrameParser) ParseHeader(b []byte) (n int, h Header, err error) {
	if p.state == stateFirst && len(b) >= 2 {
		// Fast path: the common case of a whole header in one buffer, decoded
		// in place without copying.
		if e := p.checkFirst(b[0]); e != nil {
			return p.fail(e)
		}
		if e := p.checkSecond(b[0], b[1]); e != nil {
			return p.fail(e)
		}
		size := headerSize(b[1])
		if len(b) >= size {
			h, e := p.decode(b[:size])
			if e != nil {
				return p.fail(e)
			}
			return size, h, nil
		}
		p.buf[0], p.buf[1] = b[0], b[1]
		p.need, p.have = uint8(size), 2
		p.state = stateRest
		n = 2
	}
	for n < len(b) {
		switch p.state {
		case stateFirst:
			if e := p.checkFirst(b[n]); e != nil {
				return p.fail(e)
			}
			p.buf[0] = b[n]
			p.have = 1
			n++
			p.state = stateSecond
		case stateSecond:
			if e := p.checkSecond(p.buf[0], b[n]); e != nil {
				return p.fail(e)
			}
			p.buf[1] = b[n]
			p.have = 2
			n++
			p.need = uint8(headerSize(p.buf[1]))
			p.state = stateRest
			if p.need == 2 {
				return p.complete(n)
			}
		case stateRest:
			c := copy(p.buf[p.have:p.need], b[n:])
			n += c
			p.have += uint8(c)
			if p.have == p.need {
				return p.complete(n)
			}
		case stateFailed:
			return 0, Header{}, p.err
		}
	}
	if p.state == stateFailed {
		return 0, Header{}, p.err
	}
	return n, Header{}, ErrNeedMore
}

func (p *FrameParser) complete(n int) (int, Header, error) {
	h, e := p.decode(p.buf[:p.need])
	if e != nil {
		return p.fail(e)
	}
	p.state = stateFirst
	p.need, p.have = 0, 0
	return n, h, nil
}

func (p *FrameParser) fail(e *ProtocolError) (int, Header, error) {
	p.state = stateFailed
	p.err = e
	return 0, Header{}, e
}

// checkFirst validates byte 0 alone.
func (p *FrameParser) checkFirst(b0 byte) *ProtocolError {
	op := Opcode(b0 & 0x0F)
	// RFC 6455 §5.2: reserved opcodes fail the connection.
	if !op.Valid() {
		return ErrReservedOpcode
	}
	rsv := (b0 >> 4) & 0x7
	// RFC 6455 §5.2: RSV bits must be 0 unless an extension defines them; only
	// permessage-deflate's RSV1 is defined here.
	if rsv&(Rsv2|Rsv3) != 0 {
		return ErrRSV
	}
	if rsv&Rsv1 != 0 {
		// RFC 7692 §6.1: RSV1 marks the first frame of a compressed message;
		// never on control frames or continuation frames.
		if !p.Config.AllowRSV1 || op.IsControl() || op == OpContinuation {
			return ErrRSV
		}
	}
	// RFC 6455 §5.5: control frames must not be fragmented.
	if op.IsControl() && b0&0x80 == 0 {
		return ErrControlFragmented
	}
	return nil
}

// checkSecond validates byte 1 given byte 0.
func (p *FrameParser) checkSecond(b0, b1 byte) *ProtocolError {
	masked := b1&0x80 != 0
	// RFC 6455 §5.1: a server must fail unmasked client frames; a client must
	// fail masked server frames.
	if p.Config.RequireMask && !masked {
		return ErrUnmasked
	}
	if p.Config.RejectMask && masked {
		return ErrMasked
	}
	// RFC 6455 §5.5: control payloads are at most 125 bytes, so the 7-bit
	// length field alone decides (126 and 127 announce longer payloads).
	if Opcode(b0&0x0F).IsControl() && b1&0x7F > MaxControlPayload {
		return ErrControlTooLong
	}
	return nil
}

// headerSize returns the header length implied by byte 1.
func headerSize(b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// decode decodes a complete header whose first two bytes were checked.
func (p *FrameParser) decode(b []byte) (Header, *ProtocolError) {
	h := Header{
		Fin:    b[0]&0x80 != 0,
		Rsv:    (b[0] >> 4) & 0x7,
		Op:     Opcode(b[0] & 0x0F),
		Masked: b[1]&0x80 != 0,
	}
	i := 2
	switch l := b[1] & 0x7F; l {
	case 126:
		v := binary.BigEndian.Uint16(b[2:4])
		// RFC 6455 §5.2: "the minimal number of bytes MUST be used".
		if v < 126 {
			return Header{}, ErrNonMinimalLength
		}
		h.Length = int64(v)
		i = 4
	case 127:
		v := binary.BigEndian.Uint64(b[2:10])
		// RFC 6455 §5.2: the most significant bit MUST be 0.
		if v>>63 != 0 {
			return Header{}, ErrLengthOverflow
		}
		if v <= 0xFFFF {
			return Header{}, ErrNonMinimalLength
		}
		h.Length = int64(v)
		i = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Mask[:], b[i:i+4])
	}
	if p.Config.MaxFrameSize > 0 && h.Length > p.Config.MaxFrameSize {
		return Header{}, ErrMessageTooBig
	}
	return h, nil
}

// HeaderSize returns the number of bytes AppendHeader writes for h.
func HeaderSize(h Header) int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// AppendHeader appends the wire form of h to dst, with the minimal length
// encoding. Only the low 3 bits of h.Rsv and the low 4 bits of h.Op are used.
// A negative h.Length is written as 0; callers pass real payload lengths.
func AppendHeader(dst []byte, h Header) []byte {
	b0 := byte(h.Op&0x0F) | (h.Rsv&0x7)<<4
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	l := h.Length
	if l < 0 {
		l = 0
	}
	switch {
	case l > 0xFFFF:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(l))
	case l > 125:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(l))
	default:
		dst = append(dst, b0, b1|byte(l))
	}
	if h.Masked {
		dst = append(dst, h.Mask[:]...)
	}
	return dst
}

// AppendFrame appends an unmasked frame (the server-to-client form,
// RFC 6455 §5.1) carrying payload to dst.
func AppendFrame(dst []byte, op Opcode, fin bool, rsv byte, payload []byte) []byte {
	dst = AppendHeader(dst, Header{Fin: fin, Rsv: rsv, Op: op, Length: int64(len(payload))})
	return append(dst, payload...)
}

// AppendMaskedFrame appends a frame masked with key (the client-to-server
// form, RFC 6455 §5.3). payload itself is not modified.
func AppendMaskedFrame(dst []byte, op Opcode, fin bool, rsv byte, key [4]byte, payload []byte) []byte {
	dst = AppendHeader(dst, Header{Fin: fin, Rsv: rsv, Op: op, Masked: true, Mask: key, Length: int64(len(payload))})
	start := len(dst)
	dst = append(dst, payload...)
	Mask(key, 0, dst[start:])
	return dst
}
