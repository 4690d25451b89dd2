package http

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/evhttpd/httpd/internal/ascii"
)

// headState is the position of a Parser inside a request head. The zero
// value is the start of a request.
type headState uint8

const (
	stateStart      headState = iota // before the request line; one empty line may come first
	stateMethod                      // inside the method token
	stateTarget                      // inside the request-target
	stateVersion                     // inside the HTTP-version
	stateFieldStart                  // at the first byte of a field line or of the final empty line
	stateFieldName                   // inside a field name
	stateFieldValue                  // inside a field value
	stateDone                        // the head is complete
	stateFailed                      // the head was rejected; err holds why
)

var headStateNames = [...]string{
	stateStart:      "start",
	stateMethod:     "method",
	stateTarget:     "target",
	stateVersion:    "version",
	stateFieldStart: "field-start",
	stateFieldName:  "field-name",
	stateFieldValue: "field-value",
	stateDone:       "done",
	stateFailed:     "failed",
}

func (s headState) String() string {
	if int(s) < len(headStateNames) {
		return headStateNames[s]
	}
	return "headState(?)"
}

// Byte classes, one bit each in parseClass.
const (
	classToken  = 1 << iota // tchar (RFC 9110 §5.6.2)
	classValue              // field-vchar, SP or HT (RFC 9110 §5.5), obs-text included
	classTarget             // VCHAR without obs-text: what a request-target may hold
	classHost               // reg-name bytes but '%' and ',' (RFC 3986 §3.2.2; see validHostPort)
	classHex                // HEXDIG
)

var parseClass = func() (t [256]uint8) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] |= classTarget | classValue
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] |= classValue // obs-text, kept byte-exact
	}
	t[' '] |= classValue
	t['\t'] |= classValue
	for c := 0; c < 0x100; c++ {
		if ascii.IsTchar(byte(c)) {
			t[c] |= classToken
		}
	}
	// unreserved and sub-delims (RFC 3986 §2.2, §2.3) without ','.
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+;=") {
		t[c] |= classHost
	}
	for _, c := range []byte("0123456789abcdefABCDEF") {
		t[c] |= classHex
	}
	return t
}()

// parserFlags records what the field section said about the message.
type parserFlags uint8

const (
	flagContentLength  parserFlags = 1 << iota // a Content-Length field was seen
	flagTE                                     // a Transfer-Encoding field was seen
	flagChunked                                // Transfer-Encoding is exactly "chunked"
	flagConnClose                              // Connection lists "close"
	flagConnKeepAlive                          // Connection lists "keep-alive"
	flagConnUpgrade                            // Connection lists "upgrade"
	flagExpectContinue                         // Expect: 100-continue
)

// headerField locates one field line. Offsets count from the start of the
// field section (MaxHeaderBytesCap keeps them inside a uint16).
type headerField struct {
	nameStart, nameEnd, valueStart, valueEnd uint16
}

// parserState is everything Reset clears. Offsets index the b of the current
// ParseHead call: the caller promises b starts at the same byte every time.
type parserState struct {
	state headState
	minor uint8
	flags parserFlags
	form  TargetForm // set when the request-target ends
	// resumeClass is the parseClass bit of the bytes that the current
	// state only steps over (see ParseHead), 0 when the next byte must go
	// through the state machine.
	resumeClass uint8
	err         *Error

	scan int // where scanning resumes
	// resumeEnd bounds the resume fast path: it applies only while every
	// byte of b lies below this offset, the end of the window the current
	// line's limit allows (MaxRequestLine from the request line's start,
	// MaxHeaderBytes from the field section's start). -1 after the head
	// completed or failed.
	resumeEnd int
	// work counts bytes examined, summed over calls; tests assert it stays
	// linear. A call examines the bytes from where it resumes to where it
	// stops, plus the OWS it trims (a second look at those bytes). The
	// resume fast path does not count: it moves scan past counted, and the
	// state machine's next stop counts from counted, so every byte the scan
	// passes is counted once, when the machine stops or the head ends.
	work    int
	counted int // the scan offset up to which work has counted

	lineStart   int // first byte of the current line
	colon       int // the current field line's colon
	methodStart int
	methodEnd   int
	targetEnd   int // the target starts at methodEnd+1
	// The target's authority is target[authStart:authEnd], offsets from
	// the target's first byte (a request line fits in MaxRequestLineCap,
	// so they fit a uint16): after "http://" or "https://" up to the
	// path for absolute-form, where the path starts at authEnd; the whole
	// target for authority-form; empty otherwise.
	authStart, authEnd uint16
	fieldBase          int // first byte of the field section
	headLen            int // n of the successful ParseHead

	nfields       int
	host, upgrade int // index+1 of the Host and first Upgrade field, 0 when absent

	contentLength int64
}

// Parser is an incremental HTTP/1.1 request-head parser (RFC 9112 §2-§6).
// It allocates nothing: positions live in a fixed index inside the struct,
// so a Parser is about 2 KiB and should be reused, one per connection.
//
// The zero Parser is ready and uses the default Limits. A Parser is not safe
// for concurrent use.
type Parser struct {
	lim Limits
	buf []byte // the b of the last ParseHead call
	st  parserState
	// okHost is the last Host value that passed validHostPort, when it
	// fits: a client repeats its Host on every request, and a repeat then
	// costs a compare. Reset keeps it.
	okHost    [48]byte
	okHostLen uint8
	fields    [MaxHeadersCap]headerField
}

// Init sets the limits (l.WithDefaults()) and resets the parser.
func (p *Parser) Init(l Limits) {
	p.lim = l.WithDefaults()
	p.Reset()
}

// Reset makes the parser ready for the next request. It keeps the limits
// and forgets the last buffer.
func (p *Parser) Reset() {
	p.buf = nil
	p.st = parserState{}
}

// ParseHead scans the request head at the start of b: the request line, the
// field lines and the empty line that ends them.
//
// b must begin with the first byte the caller has not consumed. While
// ParseHead returns ErrNeedMore the caller calls again with the same bytes
// followed by more; they may have moved in memory. The parser keeps
// offsets, never pointers, and resumes where it stopped, so a head that
// arrives one byte at a time still costs time linear in its length.
//
// It returns (n, nil) when the head is complete, n being its length with
// the final empty line and any one empty line before the request line (RFC
// 9112 §2.2); (0, ErrNeedMore); or (0, err) with err one of this package's
// *Error sentinels. Limits are enforced as soon as they are exceeded. After
// the head is complete or has failed, further calls return the same result
// until Reset.
func (p *Parser) ParseHead(b []byte) (n int, err error) {
	s := &p.st
	// Resume fast path. Inside a method, target, version, field name or
	// field value, a byte of the state's class only advances the scan: the
	// state machine would step over it and change nothing else. When every
	// new byte is such a byte and lies inside the window the line's limit
	// allows, the call just moves the scan offset. This is what makes a
	// head that arrives in tiny pieces cheap: most calls see one byte in the
	// middle of a token or value. Any other byte (a delimiter, a line end,
	// a byte the state rejects) goes through the machine below, which
	// resumes at the first such byte, so every error is still found at the
	// byte that causes it. The byte loop is slower per byte than the
	// machine's word-at-a-time scanners, but it stops at the first byte
	// outside the class, so a large increment costs at most the rest of
	// one token or value (which the limits bound) at that speed.
	if i := s.scan; len(b) <= s.resumeEnd && uint(i) < uint(len(b)) {
		for c := s.resumeClass; parseClass[b[i]]&c != 0; {
			i++
			if i == len(b) {
				s.scan = i
				return 0, ErrNeedMore
			}
		}
		s.scan = i
	}
	if st := s.state; st-stateFieldStart <= stateFieldValue-stateFieldStart {
		// Inside the field section (the limits are set by now).
		return p.parseFields(b, s.scan, st, s.lineStart, -s.counted)
	}
	return p.parseHead(b)
}

// parseHead runs the state machine from the scan offset.
func (p *Parser) parseHead(b []byte) (n int, err error) {
	s := &p.st
	if p.lim.MaxHeaders == 0 {
		p.lim = p.lim.WithDefaults()
	}
	i := s.scan
	state := s.state
	lineStart := s.lineStart
	// work starts at -counted: adding the stop position gives the bytes
	// scanned since the last count, by this call and by the fast path.
	work := -s.counted

	for {
		switch state {
		case stateStart:
			// RFC 9112 §2.2: ignore at least one empty line before the
			// request line. We ignore exactly one.
			if i >= len(b) {
				goto needMore
			}
			if c := b[i]; c == '\n' {
				i++
			} else if c == '\r' {
				if i+1 >= len(b) {
					goto needMore
				}
				if b[i+1] != '\n' {
					return p.failAt(ErrBareCR, i, work)
				}
				i += 2
			}
			lineStart = i
			s.methodStart = i
			state = stateMethod

		case stateMethod:
			w := window(b, lineStart+p.lim.MaxRequestLine)
			i = scanToken(w, i)
			if i >= len(b) {
				goto needMore
			}
			c := b[i]
			if i >= len(w) && c != '\r' && c != '\n' {
				return p.failAt(ErrURITooLong, i, work)
			}
			if c == ' ' && i > lineStart {
				// RFC 9112 §3: method SP request-target SP HTTP-version.
				s.methodEnd = i
				i++
				state = stateTarget
				continue
			}
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				return p.failAt(ErrBadRequestLine, i, work)
			}
			return p.failAt(ErrMethod, i, work) // RFC 9110 §9.1: method = token

		case stateTarget:
			w := window(b, lineStart+p.lim.MaxRequestLine)
			i = scanTarget(w, i)
			if i >= len(b) {
				goto needMore
			}
			c := b[i]
			if i >= len(w) && c != '\r' && c != '\n' {
				return p.failAt(ErrURITooLong, i, work)
			}
			if c == ' ' && i > s.methodEnd+1 {
				s.targetEnd = i
				// The form is decided here, at the byte that ends the
				// target: the method is known and the target complete.
				// Any method but CONNECT (7 bytes, as is OPTIONS, which
				// takes the slow path too) with a '/' is origin-form, the
				// common case (RFC 9112 §3.2.1).
				if b[s.methodEnd+1] == '/' && s.methodEnd-s.methodStart != 7 {
					s.form = OriginForm
				} else if e := p.classifyTarget(b); e != nil {
					return p.failAt(e, i, work)
				}
				i++
				state = stateVersion
				continue
			}
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				// Double space, empty target, or no version at all
				// (HTTP/0.9 simple request): RFC 9112 §3.
				return p.failAt(ErrBadRequestLine, i, work)
			}
			return p.failAt(ErrBadTarget, i, work) // CTL, DEL or a byte >= 0x80 (RFC 3986 §2)

		case stateVersion:
			// Fast path for the common "HTTP/1.1" CRLF, only at the
			// version's first byte: resumed further in, b[i:] is a
			// suffix of the version, not the version.
			if i == s.targetEnd+1 && i+10 <= len(b) && i+8 <= lineStart+p.lim.MaxRequestLine &&
				binary.LittleEndian.Uint64(b[i:]) == versionHTTP11 && b[i+8] == '\r' && b[i+9] == '\n' {
				i += 10
				s.minor = 1
				s.fieldBase = i
				lineStart = i
				state = stateFieldStart
				continue
			}
			w := window(b, lineStart+p.lim.MaxRequestLine)
			j := i
			for j < len(w) && parseClass[w[j]]&classTarget != 0 {
				j++
			}
			i = j
			if i >= len(b) {
				goto needMore
			}
			end := i
			switch c := b[i]; {
			case c == '\r':
				if i+1 >= len(b) {
					goto needMore
				}
				if b[i+1] != '\n' {
					return p.failAt(ErrBareCR, i, work)
				}
				i += 2
			case c == '\n': // RFC 9112 §2.2: a bare LF may end a line
				i++
			case i >= len(w):
				return p.failAt(ErrURITooLong, i, work)
			case c == ' ' || c == '\t':
				return p.failAt(ErrBadRequestLine, i, work) // trailing or extra whitespace
			default:
				return p.failAt(ErrBadVersion, i, work)
			}
			if e := p.version(b[s.targetEnd+1 : end]); e != nil {
				return p.failAt(e, i, work)
			}
			s.fieldBase = i
			lineStart = i
			state = stateFieldStart

		case stateFieldStart, stateFieldName, stateFieldValue:
			return p.parseFields(b, i, state, lineStart, work)
		case stateDone:
			p.buf = b
			return s.headLen, nil

		default: // stateFailed
			return 0, s.err
		}
	}

needMore:
	s.scan = i
	s.state = state
	s.lineStart = lineStart
	s.work += work + i
	s.counted = i
	s.resumeClass = resumeClass[state]
	s.resumeEnd = lineStart + p.lim.MaxRequestLine
	return 0, ErrNeedMore
}

// resumeClass holds, for each state, the parseClass bit of the bytes that
// the resume fast path may step over in it: tchar inside the method and a
// field name (RFC 9110 §5.6.2); VCHAR inside the target and the version,
// which the state machine also steps over and checks when the line ends;
// field-vchar, SP and HT inside a field value (RFC 9110 §5.5), OWS
// included. At a field line's first byte, tchar: the first byte of a name,
// which parseFields recognizes by the scan having moved past lineStart;
// the needMore exit clears it when the count of fields is full or a CR
// waits for its LF. 0 for the start, whose optional empty line needs a
// decision, and for the finished states; the array spans every state.
var resumeClass = [...]uint8{
	stateMethod:     classToken,
	stateTarget:     classTarget,
	stateVersion:    classTarget,
	stateFieldStart: classToken,
	stateFieldName:  classToken,
	stateFieldValue: classValue,
	stateFailed:     0,
}

// parseFields scans field lines (RFC 9112 §5) from i, in state, until the
// empty line that ends the head. One straight pass per line: name, colon,
// value, line end.
func (p *Parser) parseFields(b []byte, i int, state headState, lineStart, work int) (int, error) {
	s := &p.st
	limit := s.fieldBase + p.lim.MaxHeaderBytes
	// Field-line bytes beyond limit fail with ErrHeaderTooLarge; the empty
	// line that ends the section does not count.
	w := window(b, limit)
	colon := s.colon
	for {
		if state == stateFieldStart && i > lineStart {
			// The resume fast path stepped over this line's first bytes:
			// tchars, so the line is a field line whose name has begun,
			// and the field count had room for it (see needMore).
			state = stateFieldName
		}
		if state == stateFieldStart {
			if i >= len(b) {
				break
			}
			switch b[i] {
			case '\r':
				if i+1 >= len(b) {
					goto needMore
				}
				if b[i+1] != '\n' {
					return p.failAt(ErrBareCR, i, work)
				}
				return p.finish(b, i+2, work)
			case '\n':
				return p.finish(b, i+1, work)
			case ' ', '\t':
				// RFC 9112 §5.2: obs-fold is rejected; the same for
				// whitespace before the first field (RFC 9112 §2.2).
				return p.failAt(ErrObsFold, i, work)
			}
			if s.nfields >= p.lim.MaxHeaders {
				return p.failAt(ErrTooManyHeaders, i, work)
			}
			lineStart = i
			state = stateFieldName
		}
		if state == stateFieldName {
			j := scanToken(w, i)
			i = j
			if i >= len(w) {
				if len(w) < len(b) {
					return p.failAt(ErrHeaderTooLarge, i, work)
				}
				break
			}
			if b[i] != ':' || i == lineStart {
				// RFC 9112 §5.1: no whitespace between name and colon;
				// RFC 9110 §5.1: the name is a non-empty token.
				return p.failAt(ErrBadHeaderName, i, work)
			}
			colon = i
			i++
			state = stateFieldValue
		}
		// The value's OWS, leading and trailing, is trimmed once the line
		// has ended: the scan steps over it like any value byte, so the
		// resume fast path can too.
		j := scanValue(w, i)
		i = j
		if i >= len(w) {
			if len(w) < len(b) {
				return p.failAt(ErrHeaderTooLarge, i, work)
			}
			break
		}
		end := i
		if c := b[i]; c == '\r' {
			if i+1 >= len(b) {
				goto needMore
			}
			if b[i+1] != '\n' {
				return p.failAt(ErrBareCR, i, work)
			}
			i += 2
			if i > limit {
				return p.failAt(ErrHeaderTooLarge, i, work)
			}
		} else if c == '\n' {
			i++
		} else {
			// NUL, another CTL or DEL (RFC 9110 §5.5).
			return p.failAt(ErrBadHeaderValue, i, work)
		}
		// RFC 9112 §5.1: OWS around the value is not part of it.
		vs, ve := colon+1, end
		for ve > vs && (b[ve-1] == ' ' || b[ve-1] == '\t') {
			ve--
		}
		work += end - ve
		for vs < ve && (b[vs] == ' ' || b[vs] == '\t') {
			vs++
		}
		work += vs - colon - 1
		n := s.nfields
		base := s.fieldBase
		p.fields[n] = headerField{
			nameStart:  uint16(lineStart - base),
			nameEnd:    uint16(colon - base),
			valueStart: uint16(vs - base),
			valueEnd:   uint16(ve - base),
		}
		s.nfields = n + 1
		if nl := colon - lineStart; nl < len(knownFieldFirst) && knownFieldFirst[nl] == b[lineStart]|0x20 {
			if e := p.knownField(b[lineStart:colon], b[vs:ve]); e != nil {
				return p.failAt(e, i, work)
			}
		}
		lineStart = i
		state = stateFieldStart
	}
needMore:
	s.scan = i
	s.state = state
	s.lineStart = lineStart
	s.colon = colon
	s.work += work + i
	s.counted = i
	s.resumeEnd = limit
	s.resumeClass = resumeClass[state]
	if state == stateFieldStart && (i < len(b) || s.nfields >= p.lim.MaxHeaders) {
		// A CR that waits for its LF, or a field line that would be one
		// too many: the next byte needs the machine (RFC 9112 §2.2,
		// MaxHeaders).
		s.resumeClass = 0
	}
	return 0, ErrNeedMore
}

// window returns b cut at end when it is longer: the part of b a limit lets
// the scanner look at.
func window(b []byte, end int) []byte {
	if len(b) > end {
		return b[:end]
	}
	return b
}

// versionHTTP11 is "HTTP/1.1" as a little-endian word.
const versionHTTP11 = 'H' | 'T'<<8 | 'T'<<16 | 'P'<<24 | '/'<<32 | '1'<<40 | '.'<<48 | '1'<<56

const (
	swarOnes  = 0x0101010101010101
	swarHighs = 0x8080808080808080
)

// scanToken returns the index of the first byte at or after i that is not a
// tchar, or len(b). Four table lookups per step, independent of each
// other.
func scanToken(b []byte, i int) int {
	for ; i+4 <= len(b); i += 4 {
		q := b[i : i+4 : i+4]
		if parseClass[q[0]]&parseClass[q[1]]&parseClass[q[2]]&parseClass[q[3]]&classToken == 0 {
			break
		}
	}
	for i < len(b) && parseClass[b[i]]&classToken != 0 {
		i++
	}
	return i
}

// scanValue returns the index of the first byte at or after i that is not a
// field-value byte (RFC 9110 §5.5: VCHAR, obs-text, SP, HT), or len(b).
// Eight bytes at a time it flags bytes below 0x20 and equal to 0x7f. A flag
// can be false only above a true one (a borrow moves up), so the lowest flag
// is exact; when it marks an HT the scan goes on after it.
func scanValue(b []byte, i int) int {
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		y := x ^ (0x7f * swarOnes)
		m := ((x-0x20*swarOnes)&^x | (y-swarOnes)&^y) & swarHighs
		if m == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(m) >> 3
		if b[i] != '\t' {
			return i
		}
		i++
	}
	for i < len(b) && parseClass[b[i]]&classValue != 0 {
		i++
	}
	return i
}

// scanTarget returns the index of the first byte at or after i that may not
// appear in a request-target (anything but 0x21-0x7e), or len(b). The SWAR
// test flags bytes <= 0x20, equal to 0x7f or with the high bit set; the
// lowest flag is exact, as in scanValue.
func scanTarget(b []byte, i int) int {
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		y := x ^ (0x7f * swarOnes)
		m := ((x-0x21*swarOnes)&^x | (y-swarOnes)&^y | x) & swarHighs
		if m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(b) && parseClass[b[i]]&classTarget != 0 {
		i++
	}
	return i
}

// version checks an HTTP-version (RFC 9112 §2.3): "HTTP/" DIGIT "." DIGIT,
// case-sensitive. 1.0 and 1.1 are served; any other well-formed version is
// 505 (RFC 9110 §15.6.6).
func (p *Parser) version(v []byte) *Error {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' ||
		v[5]-'0' > 9 || v[7]-'0' > 9 {
		return ErrBadVersion
	}
	if v[5] != '1' || v[7] > '1' {
		return ErrVersion
	}
	p.st.minor = v[7] - '0'
	return nil
}

// failAt records e as the result, with the bytes examined up to i.
func (p *Parser) failAt(e *Error, i, work int) (int, error) {
	p.st.work += work + i
	return p.fail(e)
}

func (p *Parser) fail(e *Error) (int, error) {
	p.st.state = stateFailed
	p.st.err = e
	p.st.resumeEnd = -1
	return 0, e
}

// finish runs the checks that need the whole field section and completes
// the head at n.
func (p *Parser) finish(b []byte, n, work int) (int, error) {
	p.buf = b // only a complete head needs it: the accessors slice it
	s := &p.st
	s.work += work + n
	if s.minor == 1 && s.host == 0 {
		return p.fail(ErrMissingHost) // RFC 9112 §3.2
	}
	if s.flags&flagContentLength != 0 && s.contentLength > p.lim.MaxBodySize {
		return p.fail(ErrBodyTooLarge)
	}
	s.state = stateDone
	s.headLen = n
	s.scan = n
	s.resumeEnd = -1
	return n, nil
}

// validHost is validHostPort(v, false) through the parser's okHost.
func (p *Parser) validHost(v []byte) bool {
	if n := len(v); int(p.okHostLen) == n {
		// The host of the last request on this connection, as a rule:
		// compared word by word when it is 8 to 16 bytes long.
		if n >= 8 && n <= 16 {
			if binary.LittleEndian.Uint64(v) == binary.LittleEndian.Uint64(p.okHost[:]) &&
				binary.LittleEndian.Uint64(v[n-8:]) == binary.LittleEndian.Uint64(p.okHost[n-8:]) {
				return true
			}
		} else if string(p.okHost[:n]) == string(v) {
			return true
		}
	}
	if !validHostPort(v, false) {
		return false
	}
	if len(v) <= len(p.okHost) {
		p.okHostLen = uint8(copy(p.okHost[:], v))
	}
	return true
}

// knownFieldFirst holds, at index n, the lower-case first letter of the
// interpreted field whose name has n bytes: Host, Expect, Upgrade,
// Connection, Content-Length, Transfer-Encoding. Most other fields fail
// this test and skip knownField.
var knownFieldFirst = [18]byte{4: 'h', 6: 'e', 7: 'u', 10: 'c', 14: 'c', 17: 't'}

// knownField interprets the fields that decide framing and connection
// handling. The field was just recorded as the last one.
func (p *Parser) knownField(name, value []byte) *Error {
	s := &p.st
	switch len(name) {
	case 4:
		if foldEq(name, "host") {
			if s.host != 0 {
				return ErrDuplicateHost // RFC 9112 §3.2
			}
			// RFC 9112 §3.2: an invalid Host value is 400. An empty
			// value is what a client sends when the target URI has no
			// authority.
			if len(value) != 0 && !p.validHost(value) {
				return ErrBadHost
			}
			s.host = s.nfields
		}
	case 6:
		if foldEq(name, "expect") {
			// RFC 9110 §10.1.1: 100-continue is the only expectation.
			if !foldEq(value, "100-continue") {
				return ErrExpectation
			}
			s.flags |= flagExpectContinue
		}
	case 7:
		if foldEq(name, "upgrade") && s.upgrade == 0 {
			s.upgrade = s.nfields
		}
	case 10:
		if foldEq(name, "connection") {
			s.flags |= connectionTokens(value)
		}
	case 14:
		if foldEq(name, "content-length") {
			return p.contentLengthField(value)
		}
	case 17:
		if foldEq(name, "transfer-encoding") {
			return p.transferEncodingField(value)
		}
	}
	return nil
}

// contentLengthField interprets a Content-Length value (RFC 9112 §6.3,
// RFC 9110 §8.6): a list of identical decimal numbers.
func (p *Parser) contentLengthField(v []byte) *Error {
	s := &p.st
	if s.flags&flagTE != 0 {
		return ErrCLAndTE // RFC 9112 §6.1
	}
	first := true
	var n int64
	for {
		el, rest, more := listElement(v)
		if len(el) == 0 {
			return ErrContentLength
		}
		var x int64
		for _, c := range el {
			d := int64(c - '0')
			if c-'0' > 9 || x > (1<<63-1-d)/10 {
				return ErrContentLength
			}
			x = x*10 + d
		}
		if !first && x != n {
			return ErrConflictingLength
		}
		n, first = x, false
		if !more {
			break
		}
		v = rest
	}
	if s.flags&flagContentLength != 0 && n != s.contentLength {
		return ErrConflictingLength
	}
	s.flags |= flagContentLength
	s.contentLength = n
	return nil
}

// transferEncodingField interprets a Transfer-Encoding value (RFC 9112
// §6.1). Only a lone "chunked" is served. "chunked" before another coding or
// twice, an empty element, and a second Transfer-Encoding field are framing
// errors (400); a list of other codings, even one ending in chunked, is 501.
func (p *Parser) transferEncodingField(v []byte) *Error {
	s := &p.st
	switch {
	case s.minor == 0:
		return ErrTEHTTP10 // RFC 9112 §6.1: a 1.0 recipient cannot trust it
	case s.flags&flagContentLength != 0:
		return ErrCLAndTE
	case s.flags&flagTE != 0:
		return ErrBadTE
	}
	s.flags |= flagTE
	count := 0
	last := false
	for {
		el, rest, more := listElement(v)
		if len(el) == 0 {
			return ErrBadTE
		}
		count++
		last = len(el) == 7 && foldEq(el, "chunked")
		if last && more {
			return ErrBadTE // chunked must be the final coding, and only once
		}
		if !more {
			break
		}
		v = rest
	}
	if !last || count != 1 {
		return ErrUnsupportedTE // RFC 9112 §6.1: unknown coding, 501
	}
	s.flags |= flagChunked
	return nil
}

// connectionTokens returns the flags for the options a Connection value
// lists (RFC 9110 §7.6.1), compared case-insensitively.
func connectionTokens(v []byte) parserFlags {
	var f parserFlags
	for {
		el, rest, more := listElement(v)
		switch len(el) {
		case 5:
			if foldEq(el, "close") {
				f |= flagConnClose
			}
		case 7:
			if foldEq(el, "upgrade") {
				f |= flagConnUpgrade
			}
		case 10:
			if foldEq(el, "keep-alive") {
				f |= flagConnKeepAlive
			}
		}
		if !more {
			return f
		}
		v = rest
	}
}

// listElement splits the first element off a comma-separated list (RFC 9110
// §5.6.1) and trims OWS around it. more reports whether a comma followed.
func listElement(v []byte) (el, rest []byte, more bool) {
	i := bytes.IndexByte(v, ',')
	if i >= 0 {
		el, rest, more = v[:i], v[i+1:], true
	} else {
		el = v
	}
	for len(el) > 0 && (el[0] == ' ' || el[0] == '\t') {
		el = el[1:]
	}
	for len(el) > 0 && (el[len(el)-1] == ' ' || el[len(el)-1] == '\t') {
		el = el[:len(el)-1]
	}
	return el, rest, more
}

// foldEq reports whether b equals lower, ASCII case-insensitively. lower
// holds only lower-case letters, digits and '-'; then c|0x20 matches exactly
// the two cases of a letter and no byte that a token or field value can hold
// besides the character itself.
//
// From 4 bytes on it compares words: two 4-byte ones (overlapping) up to 8
// bytes, 8-byte ones (the last overlapping) beyond.
func foldEq(b []byte, lower string) bool {
	n := len(b)
	if n != len(lower) {
		return false
	}
	switch {
	case n >= 8:
		for i := 0; i < n-8; i += 8 {
			if binary.LittleEndian.Uint64(b[i:])|0x2020202020202020 != load64(lower[i:]) {
				return false
			}
		}
		return binary.LittleEndian.Uint64(b[n-8:])|0x2020202020202020 == load64(lower[n-8:])
	case n >= 4:
		return binary.LittleEndian.Uint32(b)|0x20202020 == load32(lower) &&
			binary.LittleEndian.Uint32(b[n-4:])|0x20202020 == load32(lower[n-4:])
	}
	for i := 0; i < n; i++ {
		if b[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// load64 and load32 read the first bytes of s as a little-endian word.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func load32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// The accessors below are valid after ParseHead returned (n, nil); before
// that they return zero values. Returned slices alias the b of the
// ParseHead call that returned (n, nil) (or of a later call, or of Rebind)
// and are valid until the caller changes or reuses that memory: for a
// server, until the head's bytes are discarded from the connection's
// buffer, which happens after the handler returns. Copy to keep them.

func (p *Parser) done() bool { return p.st.state == stateDone }

// Method returns the request method, case-sensitive (RFC 9110 §9.1).
func (p *Parser) Method() []byte {
	if !p.done() {
		return nil
	}
	return p.buf[p.st.methodStart:p.st.methodEnd]
}

// Target returns the raw request-target (RFC 9112 §3.2), in whichever form
// Form reports. Route by Path and RawQuery, which read the path and query
// out of every form.
func (p *Parser) Target() []byte {
	if !p.done() {
		return nil
	}
	return p.buf[p.st.methodEnd+1 : p.st.targetEnd]
}

// targetSplit returns the target's path and query part (for absolute-form,
// what follows the authority; else the whole target) and the offsets in it
// of '?' and of the end of the query ('#' or the end).
func (p *Parser) targetSplit() (t []byte, q, end int) {
	t = p.Target()
	if p.st.form == AbsoluteForm && t != nil {
		t = t[p.st.authEnd:]
	}
	end = len(t)
	if h := bytes.IndexByte(t, '#'); h >= 0 {
		end = h
	}
	q = bytes.IndexByte(t[:end], '?')
	return t, q, end
}

// Path returns the path of the target, the part to route by, still
// percent-encoded: for origin-form the target up to the first '?' or '#';
// for absolute-form the same of what follows the authority, and "/" when
// that is empty (RFC 9110 §4.2.3: http://host means http://host/); for
// asterisk-form "*"; for authority-form the whole target.
func (p *Parser) Path() []byte {
	t, q, end := p.targetSplit()
	if q >= 0 {
		end = q
	}
	if end == 0 && p.st.form == AbsoluteForm && t != nil {
		// The second '/' of the scheme's "//": a "/" inside the same
		// buffer, so the slice has the lifetime of every other.
		a := int(p.st.authStart)
		return p.Target()[a-1 : a]
	}
	return t[:end]
}

// RawQuery returns the query of the target: what follows the first '?' of
// the path and query part up to a '#', without either; nil when there is
// no '?', empty when the query is.
func (p *Parser) RawQuery() []byte {
	t, q, end := p.targetSplit()
	if q < 0 {
		return nil
	}
	return t[q+1 : end]
}

// Minor returns the minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
func (p *Parser) Minor() int { return int(p.st.minor) }

// NumHeaders returns the number of field lines.
func (p *Parser) NumHeaders() int {
	if !p.done() {
		return 0
	}
	return p.st.nfields
}

// HeaderAt returns the i-th field line's name as sent and its value without
// surrounding whitespace. It panics unless 0 <= i < NumHeaders().
func (p *Parser) HeaderAt(i int) (name, value []byte) {
	if i < 0 || i >= p.NumHeaders() {
		panic("http: HeaderAt index out of range")
	}
	return p.field(i)
}

func (p *Parser) field(i int) (name, value []byte) {
	f := &p.fields[i]
	b := p.buf[p.st.fieldBase:]
	return b[f.nameStart:f.nameEnd], b[f.valueStart:f.valueEnd]
}

// Header returns the value of the first field whose name equals name, ASCII
// case-insensitively, or nil when there is none. A present but empty field
// returns an empty non-nil slice.
func (p *Parser) Header(name string) []byte {
	for i := 0; i < p.NumHeaders(); i++ {
		n, v := p.field(i)
		if ascii.EqualFold(n, name) {
			return v
		}
	}
	return nil
}

// ContentLength returns the declared Content-Length, or -1 when the request
// has none or is chunked.
func (p *Parser) ContentLength() int64 {
	if !p.done() || p.st.flags&flagContentLength == 0 {
		return -1
	}
	return p.st.contentLength
}

// Chunked reports whether the body uses the chunked transfer coding.
func (p *Parser) Chunked() bool { return p.done() && p.st.flags&flagChunked != 0 }

// KeepAlive reports whether the connection persists after this request (RFC
// 9112 §9.3): for HTTP/1.1 unless Connection lists "close", for HTTP/1.0
// only when it lists "keep-alive" and not "close".
func (p *Parser) KeepAlive() bool {
	if !p.done() || p.st.flags&flagConnClose != 0 {
		return false
	}
	return p.st.minor == 1 || p.st.flags&flagConnKeepAlive != 0
}

// ExpectContinue reports whether the request carries Expect: 100-continue.
func (p *Parser) ExpectContinue() bool {
	return p.done() && p.st.flags&flagExpectContinue != 0
}

// Upgrade returns the value of the first Upgrade field when Connection lists
// "upgrade" (RFC 9110 §7.8), else nil.
func (p *Parser) Upgrade() []byte {
	if !p.done() || p.st.flags&flagConnUpgrade == 0 || p.st.upgrade == 0 {
		return nil
	}
	_, v := p.field(p.st.upgrade - 1)
	return v
}

// Host returns the Host field value, nil when absent (HTTP/1.0 only). It
// is empty or a valid uri-host [ ":" port ] (see validHostPort). To learn
// which host a request is for, use EffectiveHost: the Host field is not the
// answer for absolute-form and authority-form targets.
func (p *Parser) Host() []byte {
	if !p.done() || p.st.host == 0 {
		return nil
	}
	_, v := p.field(p.st.host - 1)
	return v
}

// Form returns the form of the request-target (RFC 9112 §3.2), 0 before
// the head is complete.
func (p *Parser) Form() TargetForm {
	if !p.done() {
		return 0
	}
	return p.st.form
}

// TargetAuthority returns the authority of the request-target: for
// absolute-form what lies between "//" and the path ("host:8080" of
// "http://host:8080/p"), for authority-form the whole target, nil for the
// other forms. It is a valid uri-host [ ":" port ], never empty, never with
// userinfo; for authority-form the port is present.
func (p *Parser) TargetAuthority() []byte {
	if f := p.Form(); f != AbsoluteForm && f != AuthorityForm {
		return nil
	}
	return p.Target()[p.st.authStart:p.st.authEnd]
}

// EffectiveHost returns the authority the request is for: TargetAuthority
// when the target has one, otherwise the Host field. RFC 9112 §3.2.2: an
// origin server ignores Host when the target is in absolute-form; §3.3:
// for authority-form the target is the authority. It is nil only for an
// HTTP/1.0 request without Host and with an origin- or asterisk-form
// target, and empty when Host is (a client sends an empty Host when the
// target URI has no authority, RFC 9112 §3.2).
func (p *Parser) EffectiveHost() []byte {
	if a := p.TargetAuthority(); a != nil {
		return a
	}
	return p.Host()
}

// EqualFold reports whether a equals b under ASCII case folding, as header
// field names compare (RFC 9110 §5.1). Non-ASCII bytes compare exactly.
func EqualFold(a []byte, b string) bool { return ascii.EqualFold(a, b) }
