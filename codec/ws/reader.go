package ws

// BufferPool lends a Reader the buffers it assembles messages and inflates
// into, so that a server can share them among connections and an idle
// connection holds none. A pool is used by one goroutine at a time, like the
// Reader.
type BufferPool interface {
	// Get returns an empty buffer with a capacity of at least n bytes.
	Get(n int) []byte
	// Put takes back a buffer that Get returned (or a larger one the
	// Reader grew it into); the pool may keep it or drop it.
	Put(b []byte)
}

// ReaderConfig says what a Reader accepts and how it delivers. The zero
// value reads a client's frames (masked, RFC 6455 §5.1) as whole messages
// of at most DefaultMaxMessageSize bytes, without extensions.
type ReaderConfig struct {
	// MaxMessage caps a message. Frame lengths count against it as their
	// headers arrive, so the 1009 comes before the payload is buffered;
	// a compressed message is also capped by its inflated size. Over it,
	// Read fails with ErrMessageTooBig (1009). 0 means
	// DefaultMaxMessageSize.
	MaxMessage int64
	// MaxFragments caps the frames of one message; 0 means
	// DefaultMaxFragments. Over it, Read fails with ErrTooManyFragments
	// (1009).
	MaxFragments int
	// Frames delivers each data frame as soon as it is complete instead of
	// whole messages. Compressed messages are still delivered whole: their
	// frames cannot be inflated apart (RFC 7692 §6.2).
	Frames bool
	// Inflate is the connection's permessage-deflate decompressor when the
	// extension was negotiated: RSV1 is then accepted on the first frame of
	// a data message, and such a message is inflated before delivery
	// (RFC 7692 §6.2). nil: RSV1 fails with ErrRSV (1002).
	Inflate *Decompressor
	// Client reads a server's frames instead: masked frames fail with
	// ErrMasked and unmasked ones are accepted (RFC 6455 §5.1).
	Client bool
	// Pool lends the buffers messages are assembled and inflated in. nil:
	// the Reader allocates them itself and keeps them for the next message
	// until Release.
	Pool BufferPool
}

// Message is what Reader.Read delivers: a whole data message, one data
// frame (ReaderConfig.Frames), or a control frame.
type Message struct {
	// Op is OpText or OpBinary for a whole message; in frame delivery the
	// frame's own opcode, OpContinuation for every frame after a message's
	// first; OpClose, OpPing or OpPong for a control frame.
	Op Opcode
	// Fin reports whether this ends its message: always true for whole
	// messages and control frames.
	Fin bool
	// Compressed reports that the message was sent compressed (RSV1,
	// RFC 7692 §6) and Payload holds it inflated.
	Compressed bool
	// Code is the status code of a close frame, StatusNoStatusRcvd when its
	// payload was empty (RFC 6455 §7.1.5); 0 for other messages. A close
	// payload was checked: a valid code and a UTF-8 reason.
	Code StatusCode
	// Payload is the unmasked (and inflated) payload. It aliases either the
	// b given to Read, when the whole message was in it, or a buffer of the
	// Reader; it is valid until the next Read, Init or Release call and, in
	// the first case, as long as those bytes of b are not overwritten.
	Payload []byte
}

type readerState uint8

const (
	readHeader  readerState = iota // between frames: a header, maybe partial, is next
	readPayload                    // inside the payload of hdr
)

// initialMessageBuffer caps the first buffer of a message assembled from
// pieces: a peer that announces a large frame and sends it slowly makes the
// buffer grow with what actually arrived, not with what was announced.
const initialMessageBuffer = 64 << 10

// maxInflateHint caps the output buffer asked for on the strength of the
// last message's size, so that one large message does not make every later
// small one borrow a large buffer.
const maxInflateHint = 1 << 20

// Reader is the incremental message reader of one connection: the
// WebSocket counterpart of codec/http's Parser. It takes the bytes the
// connection holds, returns how many it consumed, and delivers a message,
// a frame or a control frame as soon as one is complete. Inside it: frame
// headers (FrameParser), unmasking (Mask), the fragmentation and size rules
// (Sequencer), control frames between the fragments of a message, UTF-8
// validation of text that fails at the first impossible byte
// (UTF8Validator), close payload checks and permessage-deflate (the
// configured Decompressor).
//
// Call Init first, or use the zero value, which is Init with the zero
// ReaderConfig. State lives in the struct, so any split of the input, down
// to a byte per call, gives the same messages and errors as the input
// passed whole. A Reader is not safe for concurrent use.
//
// Memory: a message that arrives whole in one b and needs no inflating is
// delivered in place, without a copy. Otherwise its payload is gathered in
// a buffer from ReaderConfig.Pool, given back at the next Read or at
// Release; with no pool the Reader keeps its buffers for the next messages.
// Control payloads split across reads are gathered in a 125-byte array
// inside the Reader.
type Reader struct {
	cfg   ReaderConfig
	ready bool // Init ran (the zero Reader runs it on the first Read)

	// Read state.
	fp    FrameParser
	seq   Sequencer
	utf   UTF8Validator
	state readerState
	hdr   Header // the frame in progress
	pos   int64  // payload bytes of hdr consumed
	err   error  // sticky protocol error

	msg       []byte // message (or frame) assembled so far; nil when none
	delivered []byte // buffer behind the last delivered payload, given back on the next call
	spare     []byte // a buffer kept for reuse when there is no pool
	ctlN      uint8
	ctl       [MaxControlPayload]byte
}

// Init resets r, giving back any buffer it holds, and configures it. It is
// cheap enough to call for every message: a server may lend one Reader to
// whichever connection has a message in progress.
func (r *Reader) Init(cfg ReaderConfig) {
	r.Release()
	r.cfg, r.ready = cfg, true
	r.fp.Config = ParserConfig{
		AllowRSV1:   cfg.Inflate != nil,
		RequireMask: !cfg.Client,
		RejectMask:  cfg.Client,
	}
	r.seq.MaxFragments = cfg.MaxFragments
	r.seq.Init(cfg.MaxMessage)
}

// Config returns the configuration Init set.
func (r *Reader) Config() ReaderConfig { return r.cfg }

// Idle reports whether r is between two messages: no partial frame header,
// frame or fragmented message and no error. The payload of the last
// delivery may still be held (until Release or the next Read).
func (r *Reader) Idle() bool {
	return r.state == readHeader && r.fp.Idle() && !r.seq.InMessage() && r.msg == nil && r.err == nil
}

// Buffered returns the payload bytes r holds in buffers: a message being
// gathered and the last one delivered from a buffer.
func (r *Reader) Buffered() int { return len(r.msg) + len(r.delivered) }

// Release gives every buffer back (to the pool, or drops it) and resets
// the read state; the configuration is kept. The payload of the last
// delivery is invalid afterwards.
func (r *Reader) Release() {
	if r.msg != nil || r.delivered != nil || r.spare != nil {
		r.putBuf(r.msg)
		r.putBuf(r.delivered)
		if r.cfg.Pool != nil && r.spare != nil {
			r.cfg.Pool.Put(r.spare)
		}
		r.msg, r.delivered, r.spare = nil, nil, nil
	}
	r.fp.Reset()
	r.seq.Init(r.cfg.MaxMessage)
	r.utf.Reset()
	r.state, r.pos, r.err, r.ctlN = readHeader, 0, nil, 0
}

// Read consumes bytes of the connection's input from the start of b.
//
// It returns (n, m, nil) when a message (or a frame, or a control frame) is
// complete: the first n bytes of b were used, and the caller hands m on
// before it overwrites or discards them (m.Payload may point into them;
// Read unmasks payload bytes in place). It returns (n, Message{},
// ErrNeedMore) when b ended first: the n bytes were used and their content
// kept (a partial header, a payload gathered or checked), so the caller
// drops them and calls again with the bytes that follow. It returns
// (n, Message{}, err) with err a *ProtocolError (see CloseCode) when the
// peer broke RFC 6455 or RFC 7692 or a limit; the connection must then be
// failed, and Read keeps returning err until Init or Release.
//
// One call delivers at most one message; the bytes after it stay in b for
// the next call.
func (r *Reader) Read(b []byte) (n int, m Message, err error) {
	if !r.ready {
		r.Init(r.cfg)
	}
	if r.err != nil {
		return 0, Message{}, r.err
	}
	if r.delivered != nil {
		r.putBuf(r.delivered)
		r.delivered = nil
	}
	for {
		if r.state == readHeader {
			k, h, err := r.fp.ParseHeader(b[n:])
			n += k
			if err == ErrNeedMore {
				return n, Message{}, ErrNeedMore
			}
			if err != nil {
				return r.fail(n, err)
			}
			if err := r.seq.Frame(h); err != nil {
				return r.fail(n, err)
			}
			r.hdr, r.pos, r.state = h, 0, readPayload
			if h.Op.IsData() {
				r.utf.Reset() // a new message starts
			}
		}
		h := &r.hdr
		p := b[n:]
		if left := h.Length - r.pos; int64(len(p)) > left {
			p = p[:left]
		}
		if h.Masked {
			Mask(h.Mask, int(r.pos), p)
		}
		r.pos += int64(len(p))
		n += len(p)
		done := r.pos == h.Length
		if h.Op.IsControl() {
			return r.control(n, p, done)
		}
		compressed := r.seq.Compressed()
		text := r.seq.MessageOp() == OpText
		// RFC 6455 §8.1: fail as soon as the bytes cannot be UTF-8, not
		// at the end of the message. Compressed text is checked once
		// inflated.
		if text && !compressed && !r.utf.Write(p) {
			return r.fail(n, ErrInvalidUTF8)
		}
		if r.cfg.Frames && !compressed {
			return r.frame(n, p, done, text)
		}
		whole := done && h.Fin
		if whole && r.msg == nil {
			// The message's last frame, and nothing of it was gathered
			// before: no copy.
			r.state = readHeader
			if compressed {
				return r.inflate(n, p)
			}
			if text && !r.utf.Done() {
				return r.fail(n, ErrInvalidUTF8)
			}
			return n, Message{Op: r.seq.MessageOp(), Fin: true, Payload: p}, nil
		}
		size := int64(-1) // unknown until the final frame's header
		if h.Fin {
			size = r.seq.MessageSize()
		}
		r.gather(p, size)
		if !done {
			return n, Message{}, ErrNeedMore
		}
		r.state = readHeader
		if !h.Fin {
			continue // the next frame of the message may be in b too
		}
		msg := r.msg
		r.msg = nil
		if compressed {
			n, m, err = r.inflate(n, msg)
			r.putBuf(msg)
			return n, m, err
		}
		r.delivered = msg
		if text && !r.utf.Done() {
			return r.fail(n, ErrInvalidUTF8)
		}
		return n, Message{Op: r.seq.MessageOp(), Fin: true, Payload: msg}, nil
	}
}

// control finishes a control frame whose payload bytes p were just
// consumed; RFC 6455 §5.4 lets control frames come between the fragments
// of a message, which the Sequencer and r.msg keep untouched.
func (r *Reader) control(n int, p []byte, done bool) (int, Message, error) {
	if !done || r.ctlN > 0 {
		r.ctlN += uint8(copy(r.ctl[r.ctlN:], p))
		if !done {
			return n, Message{}, ErrNeedMore
		}
		p = r.ctl[:r.ctlN]
		r.ctlN = 0 // the bytes stay in ctl until the next control frame
	}
	r.state = readHeader
	m := Message{Op: r.hdr.Op, Fin: true, Payload: p}
	if m.Op == OpClose {
		code, _, err := ParseClosePayload(p)
		if err != nil {
			return r.fail(n, err)
		}
		m.Code = code
	}
	return n, m, nil
}

// frame finishes what was consumed of a data frame in frame delivery: a
// frame that arrived whole is delivered in place, one split across reads
// is gathered first.
func (r *Reader) frame(n int, p []byte, done, text bool) (int, Message, error) {
	h := &r.hdr
	if !done || r.msg != nil {
		r.gather(p, h.Length)
		if !done {
			return n, Message{}, ErrNeedMore
		}
		p = r.msg
		r.delivered, r.msg = r.msg, nil
	}
	r.state = readHeader
	if h.Fin && text && !r.utf.Done() {
		return r.fail(n, ErrInvalidUTF8)
	}
	return n, Message{Op: h.Op, Fin: h.Fin, Payload: p}, nil
}

// inflate delivers a compressed message whose payload (all its frames) is
// p. The output buffer is sized from the decompressor's last message, so a
// stream of similar messages inflates without allocating.
func (r *Reader) inflate(n int, p []byte) (int, Message, error) {
	d := r.cfg.Inflate
	limit := r.seq.max
	if limit <= 0 {
		limit = DefaultMaxMessageSize
	}
	hint := min(int64(max(min(d.lastSize, maxInflateHint), 2*len(p), 512)), limit)
	dst := r.getBuf(int(hint))
	out, err := d.Decompress(dst, p, limit)
	if err != nil {
		r.putBuf(dst)
		return r.fail(n, err)
	}
	if cap(out) != cap(dst) {
		r.putBuf(dst) // Decompress outgrew it
	}
	r.delivered = out
	if r.seq.MessageOp() == OpText && !ValidUTF8(out) {
		return r.fail(n, ErrInvalidUTF8)
	}
	return n, Message{Op: r.seq.MessageOp(), Fin: true, Compressed: true, Payload: out}, nil
}

// gather appends p to the message buffer. size is what the buffer will
// hold in all when the headers have told (a frame, or a message whose
// final frame has begun), -1 while more fragments may follow.
//
// The buffer starts at most initialMessageBuffer and doubles, capped by
// size or else by the message limit, so a message in many small fragments
// costs linear copying; the pool gets each outgrown buffer back.
// Nothing is taken for empty pieces: a message whose earlier fragments were
// empty is then delivered in place like an unfragmented one.
func (r *Reader) gather(p []byte, size int64) {
	if len(p) == 0 {
		return
	}
	limit := size
	if limit < 0 {
		limit = r.seq.max
		if limit <= 0 {
			limit = DefaultMaxMessageSize
		}
	}
	need := int64(len(r.msg) + len(p))
	if r.msg == nil {
		r.msg = r.getBuf(int(max(min(limit, initialMessageBuffer), need)))
	} else if need > int64(cap(r.msg)) {
		nb := r.getBuf(int(max(min(2*int64(cap(r.msg)), limit), need)))
		nb = append(nb, r.msg...)
		r.putBuf(r.msg)
		r.msg = nb
	}
	r.msg = append(r.msg, p...)
}

func (r *Reader) getBuf(n int) []byte {
	if r.cfg.Pool != nil {
		return r.cfg.Pool.Get(n)
	}
	if b := r.spare; b != nil && cap(b) >= n {
		r.spare = nil
		return b[:0]
	}
	return make([]byte, 0, max(n, 512))
}

func (r *Reader) putBuf(b []byte) {
	if b == nil {
		return
	}
	if r.cfg.Pool != nil {
		r.cfg.Pool.Put(b)
		return
	}
	if cap(b) > cap(r.spare) {
		r.spare = b[:0]
	}
}

// fail makes err sticky and returns it.
func (r *Reader) fail(n int, err error) (int, Message, error) {
	r.err = err
	return n, Message{}, err
}
