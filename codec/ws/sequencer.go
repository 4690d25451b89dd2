package ws

// DefaultMaxMessageSize is the message cap used by Sequencer.Init when given
// a size of 0 or less: 1 MiB, the server's documented default.
const DefaultMaxMessageSize int64 = 1 << 20

// DefaultMaxFragments is the fragment cap of a Sequencer whose MaxFragments
// is 0. Zero-length continuation frames add nothing to the size, so without
// this cap a message could go on forever.
const DefaultMaxFragments = 1 << 16

type seqState uint8

const (
	seqIdle      seqState = iota // between messages
	seqFragments                 // a data frame without FIN was seen; continuations expected
)

// Sequencer enforces the fragmentation rules of RFC 6455 §5.4 over the
// headers of one connection, in order, and caps each message by the lengths
// frames declare, so the 1009 comes before any payload is buffered. Control
// frames may appear between fragments and do not disturb the message in
// progress. The zero value caps messages at DefaultMaxMessageSize; Init sets
// another cap. It holds no buffers.
type Sequencer struct {
	// MaxFragments caps the frames of one message; 0 means
	// DefaultMaxFragments. Exceeding it fails with ErrTooManyFragments (1009).
	MaxFragments int

	max        int64 // message cap; 0 means DefaultMaxMessageSize
	state      seqState
	op         Opcode
	compressed bool
	size       int64 // payload bytes declared so far in the current message
	frames     int
}

// Init resets s and sets the message size cap; maxMessage <= 0 means
// DefaultMaxMessageSize. MaxFragments is kept.
func (s *Sequencer) Init(maxMessage int64) {
	*s = Sequencer{MaxFragments: s.MaxFragments, max: maxMessage}
}

// Frame checks the next complete frame header. It returns nil or one of
// ErrContinuationWithoutStart, ErrDataInsideFragmented, ErrRSV,
// ErrReservedOpcode (1002),
// ErrMessageTooBig, ErrTooManyFragments (1009). After an error the connection
// must be failed; the Sequencer's state is then unspecified until Init.
func (s *Sequencer) Frame(h Header) error {
	if h.Op.IsControl() {
		// RFC 6455 §5.4: control frames may be injected in the middle of a
		// fragmented message; they are not part of it.
		return nil
	}
	max := s.max
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	switch h.Op {
	case OpContinuation:
		if s.state != seqFragments {
			// RFC 6455 §5.4: a continuation needs an unfinished message.
			return ErrContinuationWithoutStart
		}
		if h.Rsv&Rsv1 != 0 {
			// RFC 7692 §6.1: RSV1 only on the first frame of a message.
			return ErrRSV
		}
		maxFrames := s.MaxFragments
		if maxFrames <= 0 {
			maxFrames = DefaultMaxFragments
		}
		if s.frames >= maxFrames {
			return ErrTooManyFragments
		}
		s.frames++
		// Compare against what is left so the sum cannot overflow.
		if h.Length > max-s.size {
			return ErrMessageTooBig
		}
		s.size += h.Length
	case OpText, OpBinary:
		if s.state == seqFragments {
			// RFC 6455 §5.4: fragments of one message are not interleaved
			// with another data message.
			return ErrDataInsideFragmented
		}
		if h.Length > max {
			return ErrMessageTooBig
		}
		s.op = h.Op
		s.compressed = h.Rsv&Rsv1 != 0
		s.size = h.Length
		s.frames = 1
	default:
		// RFC 6455 §5.2; ParseHeader already rejects these.
		return ErrReservedOpcode
	}
	if h.Fin {
		s.state = seqIdle
	} else {
		s.state = seqFragments
	}
	return nil
}

// MessageOp returns the opcode (OpText or OpBinary) of the message that the
// last data frame passed to Frame belongs to; it stays valid after the final
// frame until the next message starts. It is 0 before the first message.
func (s *Sequencer) MessageOp() Opcode { return s.op }

// Compressed reports whether the first frame of that message had RSV1 set
// (RFC 7692 §6: "Per-Message Compressed").
func (s *Sequencer) Compressed() bool { return s.compressed }

// InMessage reports whether a fragmented message is unfinished.
func (s *Sequencer) InMessage() bool { return s.state == seqFragments }

// MessageSize returns the payload bytes declared so far by the frames of that
// message.
func (s *Sequencer) MessageSize() int64 { return s.size }
