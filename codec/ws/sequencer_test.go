package ws

import "testing"

func TestSequencer(t *testing.T) {
	text := func(fin bool, n int64) Header { return Header{Fin: fin, Op: OpText, Length: n} }
	bin := func(fin bool, n int64) Header { return Header{Fin: fin, Op: OpBinary, Length: n} }
	cont := func(fin bool, n int64) Header { return Header{Fin: fin, Op: OpContinuation, Length: n} }
	ping := Header{Fin: true, Op: OpPing, Length: 3}
	pong := Header{Fin: true, Op: OpPong}
	closeF := Header{Fin: true, Op: OpClose, Length: 2}
	compressed := func(h Header) Header { h.Rsv = Rsv1; return h }

	tests := []struct {
		name    string
		max     int64
		frags   int
		frames  []Header
		failAt  int // index of the frame that fails; -1 for none
		err     error
		op      Opcode
		comp    bool
		inMsg   bool
		msgSize int64
	}{
		{"single text", 100, 0, []Header{text(true, 5)}, -1, nil, OpText, false, false, 5},
		{"fragmented binary", 100, 0, []Header{bin(false, 3), cont(false, 3), cont(true, 3)}, -1, nil, OpBinary, false, false, 9},
		{"control between fragments", 100, 0, []Header{text(false, 3), ping, cont(false, 3), pong, closeF, cont(true, 0)}, -1, nil, OpText, false, false, 6},
		{"control before any message", 100, 0, []Header{ping, pong}, -1, nil, 0, false, false, 0},
		{"unfinished", 100, 0, []Header{text(false, 3), cont(false, 1)}, -1, nil, OpText, false, true, 4},
		{"compressed first frame", 100, 0, []Header{compressed(text(false, 3)), cont(true, 3)}, -1, nil, OpText, true, false, 6},
		{"two messages", 100, 0, []Header{compressed(text(true, 3)), bin(true, 90)}, -1, nil, OpBinary, false, false, 90},
		{"continuation without start", 100, 0, []Header{cont(true, 3)}, 0, ErrContinuationWithoutStart, 0, false, false, 0},
		{"continuation after finished message", 100, 0, []Header{text(true, 3), cont(true, 3)}, 1, ErrContinuationWithoutStart, 0, false, false, 0},
		{"text inside fragmented", 100, 0, []Header{text(false, 3), ping, text(true, 3)}, 2, ErrDataInsideFragmented, 0, false, false, 0},
		{"binary inside fragmented", 100, 0, []Header{bin(false, 3), bin(false, 3)}, 1, ErrDataInsideFragmented, 0, false, false, 0},
		{"rsv1 on continuation", 100, 0, []Header{compressed(text(false, 3)), compressed(cont(true, 3))}, 1, ErrRSV, 0, false, false, 0},
		{"single frame at cap", 100, 0, []Header{bin(true, 100)}, -1, nil, OpBinary, false, false, 100},
		{"single frame over cap", 100, 0, []Header{bin(true, 101)}, 0, ErrMessageTooBig, 0, false, false, 0},
		{"declared 2^62 first frame", 100, 0, []Header{bin(false, 1<<62)}, 0, ErrMessageTooBig, 0, false, false, 0},
		{"fragments sum over cap", 100, 0, []Header{bin(false, 60), cont(false, 40), cont(true, 1)}, 2, ErrMessageTooBig, 0, false, false, 0},
		{"fragments huge declared", 100, 0, []Header{bin(false, 60), cont(true, 1<<63-1)}, 1, ErrMessageTooBig, 0, false, false, 0},
		{"default cap", 0, 0, []Header{bin(true, DefaultMaxMessageSize+1)}, 0, ErrMessageTooBig, 0, false, false, 0},
		{"default cap fits", -1, 0, []Header{bin(true, DefaultMaxMessageSize)}, -1, nil, OpBinary, false, false, DefaultMaxMessageSize},
		{"too many fragments", 100, 3, []Header{bin(false, 0), cont(false, 0), cont(false, 0), cont(false, 0)}, 3, ErrTooManyFragments, 0, false, false, 0},
		{"reserved opcode", 100, 0, []Header{{Fin: true, Op: 3}}, 0, ErrReservedOpcode, 0, false, false, 0},
		{"fragments at cap", 100, 3, []Header{bin(false, 0), cont(false, 0), cont(true, 0)}, -1, nil, OpBinary, false, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s Sequencer
			s.MaxFragments = tc.frags
			s.Init(tc.max)
			for i, h := range tc.frames {
				err := s.Frame(h)
				if i == tc.failAt {
					if err != tc.err {
						t.Fatalf("Frame(%+v) #%d = %v; want %v", h, i, err, tc.err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Frame(%+v) #%d = %v; want nil", h, i, err)
				}
			}
			if tc.failAt >= 0 {
				t.Fatalf("no error; want %v at frame %d", tc.err, tc.failAt)
			}
			if s.MessageOp() != tc.op || s.Compressed() != tc.comp || s.InMessage() != tc.inMsg || s.MessageSize() != tc.msgSize {
				t.Fatalf("state = op %v compressed %v in %v size %d; want %v %v %v %d",
					s.MessageOp(), s.Compressed(), s.InMessage(), s.MessageSize(), tc.op, tc.comp, tc.inMsg, tc.msgSize)
			}
		})
	}
}
