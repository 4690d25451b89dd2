package http

// chunkState is the position of a ChunkedDecoder inside a chunked body
// (RFC 9112 §7.1). The zero value is the start of a chunk-size line.
type chunkState uint8

const (
	chunkSize          chunkState = iota // in the hex digits of chunk-size
	chunkExtBWS                          // after BWS in a chunk line: only more BWS or ';' may follow
	chunkExtNameStart                    // after ';': BWS, then a chunk-ext-name
	chunkExtName                         // in a chunk-ext-name
	chunkExtNameBWS                      // BWS after a chunk-ext-name: '=' or ';' must follow
	chunkExtValStart                     // after '=': BWS, then a token or a quoted-string
	chunkExtValToken                     // in a token chunk-ext-val
	chunkExtQuoted                       // in a quoted-string chunk-ext-val
	chunkExtQuotedPair                   // after a backslash in a quoted-string
	chunkExtAfterQuote                   // after the closing DQUOTE
	chunkSizeLF                          // after the CR of a chunk line
	chunkData                            // in chunk data
	chunkDataCR                          // after chunk data: expect CR
	chunkDataLF                          // after chunk data and CR: expect LF
	chunkTrailerStart                    // at the first byte of a trailer line or the final CRLF
	chunkTrailerName                     // in a trailer field name
	chunkTrailerValue                    // in a trailer field value
	chunkTrailerLF                       // after the CR of a trailer line
	chunkEndLF                           // after the CR of the final empty line
	chunkDone                            // the body ended
	chunkFailed                          // the body was rejected; err holds why
)

var chunkStateNames = [...]string{
	chunkSize:          "size",
	chunkExtBWS:        "ext-bws",
	chunkExtNameStart:  "ext-name-start",
	chunkExtName:       "ext-name",
	chunkExtNameBWS:    "ext-name-bws",
	chunkExtValStart:   "ext-value-start",
	chunkExtValToken:   "ext-value-token",
	chunkExtQuoted:     "ext-quoted",
	chunkExtQuotedPair: "ext-quoted-pair",
	chunkExtAfterQuote: "ext-after-quote",
	chunkSizeLF:        "size-lf",
	chunkData:          "data",
	chunkDataCR:        "data-cr",
	chunkDataLF:        "data-lf",
	chunkTrailerStart:  "trailer-start",
	chunkTrailerName:   "trailer-name",
	chunkTrailerValue:  "trailer-value",
	chunkTrailerLF:     "trailer-lf",
	chunkEndLF:         "end-lf",
	chunkDone:          "done",
	chunkFailed:        "failed",
}

func (s chunkState) String() string {
	if int(s) < len(chunkStateNames) {
		return chunkStateNames[s]
	}
	return "chunkState(?)"
}

// maxChunkSizeDigits bounds chunk-size: 16 hex digits fill a uint64.
const maxChunkSizeDigits = 16

// ChunkedDecoder removes the chunked transfer coding (RFC 9112 §7.1) from a
// request body, incrementally, without allocating. Framing is strict: every
// chunk line, the CRLF after chunk data and every trailer line must end in
// CRLF. Chunk extensions are checked against the RFC grammar, capped at
// Limits.MaxChunkExt bytes per line and ignored. Trailer fields are checked
// as field lines, counted against their own Limits.MaxHeaderBytes and
// Limits.MaxHeaders budget, and dropped.
//
// The zero ChunkedDecoder is ready and uses the default Limits.
type ChunkedDecoder struct {
	lim   Limits
	state chunkState
	err   *Error

	size   uint64 // chunk-size being read, then the data left in the chunk
	digits int    // hex digits read of the current chunk-size
	ext    int    // chunk-extension bytes on the current line
	last   bool   // the current chunk line has size 0
	total  int64  // sum of chunk sizes so far

	trailerBytes  int // bytes of trailer lines so far
	trailerFields int
}

// Init sets the limits (l.WithDefaults()) and resets the decoder for a new
// body.
func (d *ChunkedDecoder) Init(l Limits) {
	*d = ChunkedDecoder{lim: l.WithDefaults()}
}

// Done reports whether the whole chunked body, trailer section included,
// has been consumed.
func (d *ChunkedDecoder) Done() bool { return d.state == chunkDone }

// Decode copies chunk data from src into dst and consumes the framing
// around it. It returns the bytes written to dst and consumed from src. It
// stops when src is exhausted, when dst is full at chunk data, or when the
// body has ended: then Done reports true and nSrc counts up to the CRLF that
// ends the trailer section, so src[nSrc:] belongs to the next request.
//
// dst may alias src when &dst[0] <= &src[0]: data only ever moves toward
// the front, so a connection buffer can be decoded in place. Decode keeps no
// reference to either slice.
//
// Errors are this package's *Error sentinels: ErrBadChunk and
// ErrChunkExtTooLong (400), ErrBodyTooLarge (413) as soon as a chunk-size
// takes the body over Limits.MaxBodySize, before its data is read, and
// ErrHeaderTooLarge, ErrTooManyHeaders (431), ErrBadHeaderName,
// ErrBadHeaderValue, ErrObsFold (400) for the trailer section. After an
// error every call returns it again, with nothing consumed.
func (d *ChunkedDecoder) Decode(dst, src []byte) (nDst, nSrc int, err error) {
	if d.lim.MaxHeaders == 0 {
		d.lim = d.lim.WithDefaults()
	}
	i := 0
	for i < len(src) {
		c := src[i]
		switch d.state {
		case chunkSize:
			if v := chunkHex[c]; v != 0xff {
				// RFC 9112 §7.1: chunk-size = 1*HEXDIG, bounded here
				// to 16 digits.
				if d.digits == maxChunkSizeDigits {
					return nDst, i, d.fail(ErrBadChunk)
				}
				d.size = d.size<<4 | uint64(v)
				d.digits++
				i++
				continue
			}
			// No sign, "0x", '_', or leading whitespace: 1*HEXDIG only.
			if d.digits == 0 {
				return nDst, i, d.fail(ErrBadChunk)
			}
			if d.size > uint64(d.lim.MaxBodySize-d.total) {
				return nDst, i, d.fail(ErrBodyTooLarge)
			}
			d.total += int64(d.size)
			d.last = d.size == 0
			switch c {
			case '\r':
				d.state = chunkSizeLF
			case ';':
				d.state = chunkExtNameStart
			case ' ', '\t':
				d.state = chunkExtBWS
			default:
				return nDst, i, d.fail(ErrBadChunk)
			}
			if c != '\r' {
				if e := d.countExt(); e != nil {
					return nDst, i, e
				}
			}
			i++

		case chunkExtBWS, chunkExtNameStart, chunkExtName, chunkExtNameBWS,
			chunkExtValStart, chunkExtValToken, chunkExtQuoted,
			chunkExtQuotedPair, chunkExtAfterQuote:
			// RFC 9112 §7.1.1:
			//   chunk-ext = *( BWS ";" BWS chunk-ext-name
			//                  [ BWS "=" BWS chunk-ext-val ] )
			next, ok := d.extByte(c)
			if !ok {
				return nDst, i, d.fail(ErrBadChunk)
			}
			d.state = next
			if next != chunkSizeLF {
				if e := d.countExt(); e != nil {
					return nDst, i, e
				}
			}
			i++

		case chunkSizeLF:
			if c != '\n' {
				return nDst, i, d.fail(ErrBadChunk) // bare CR
			}
			i++
			d.digits, d.ext = 0, 0
			if d.last {
				d.state = chunkTrailerStart // RFC 9112 §7.1: last-chunk
			} else {
				d.state = chunkData
			}

		case chunkData:
			room := len(dst) - nDst
			if room == 0 {
				return nDst, i, nil
			}
			n := min(uint64(len(src)-i), uint64(room), d.size)
			copy(dst[nDst:], src[i:i+int(n)])
			nDst += int(n)
			i += int(n)
			d.size -= n
			if d.size == 0 {
				d.state = chunkDataCR
			}

		case chunkDataCR:
			if c != '\r' {
				return nDst, i, d.fail(ErrBadChunk) // data longer than its size, or bare LF
			}
			d.state = chunkDataLF
			i++

		case chunkDataLF:
			if c != '\n' {
				return nDst, i, d.fail(ErrBadChunk)
			}
			d.state = chunkSize
			i++

		case chunkTrailerStart:
			// RFC 9112 §7.1.2: trailer-section = *( field-line CRLF ).
			switch {
			case c == '\r':
				d.state = chunkEndLF
				i++
				continue
			case c == '\n':
				return nDst, i, d.fail(ErrBadChunk) // bare LF
			case c == ' ' || c == '\t':
				return nDst, i, d.fail(ErrObsFold)
			case parseClass[c]&classToken == 0:
				return nDst, i, d.fail(ErrBadHeaderName)
			case d.trailerFields >= d.lim.MaxHeaders:
				return nDst, i, d.fail(ErrTooManyHeaders)
			}
			d.trailerFields++
			d.state = chunkTrailerName
			if e := d.countTrailer(); e != nil {
				return nDst, i, e
			}
			i++

		case chunkTrailerName:
			if c == ':' {
				d.state = chunkTrailerValue
			} else if parseClass[c]&classToken == 0 {
				return nDst, i, d.fail(ErrBadHeaderName)
			}
			if e := d.countTrailer(); e != nil {
				return nDst, i, e
			}
			i++

		case chunkTrailerValue:
			if c == '\r' {
				d.state = chunkTrailerLF
			} else if parseClass[c]&classValue == 0 {
				return nDst, i, d.fail(ErrBadHeaderValue)
			}
			if e := d.countTrailer(); e != nil {
				return nDst, i, e
			}
			i++

		case chunkTrailerLF:
			if c != '\n' {
				return nDst, i, d.fail(ErrBadChunk)
			}
			if e := d.countTrailer(); e != nil {
				return nDst, i, e
			}
			d.state = chunkTrailerStart
			i++

		case chunkEndLF:
			if c != '\n' {
				return nDst, i, d.fail(ErrBadChunk)
			}
			d.state = chunkDone
			return nDst, i + 1, nil

		case chunkDone:
			return nDst, i, nil

		default: // chunkFailed
			return nDst, i, d.err
		}
	}
	if d.state == chunkFailed {
		return nDst, i, d.err
	}
	return nDst, i, nil
}

// extByte returns the chunk-extension state after byte c, and false when c
// may not come next.
func (d *ChunkedDecoder) extByte(c byte) (chunkState, bool) {
	bws := c == ' ' || c == '\t'
	token := parseClass[c]&classToken != 0
	switch d.state {
	case chunkExtBWS: // BWS before ";"
		switch {
		case bws:
			return chunkExtBWS, true
		case c == ';':
			return chunkExtNameStart, true
		}
	case chunkExtNameStart: // ";" BWS
		switch {
		case bws:
			return chunkExtNameStart, true
		case token:
			return chunkExtName, true
		}
	case chunkExtName, chunkExtNameBWS:
		switch {
		case token && d.state == chunkExtName:
			return chunkExtName, true
		case bws:
			return chunkExtNameBWS, true
		case c == '=':
			return chunkExtValStart, true
		case c == ';':
			return chunkExtNameStart, true
		case c == '\r' && d.state == chunkExtName:
			return chunkSizeLF, true
		}
	case chunkExtValStart: // "=" BWS
		switch {
		case bws:
			return chunkExtValStart, true
		case c == '"':
			return chunkExtQuoted, true
		case token:
			return chunkExtValToken, true
		}
	case chunkExtValToken, chunkExtAfterQuote:
		switch {
		case token && d.state == chunkExtValToken:
			return chunkExtValToken, true
		case bws:
			return chunkExtBWS, true
		case c == ';':
			return chunkExtNameStart, true
		case c == '\r':
			return chunkSizeLF, true
		}
	case chunkExtQuoted:
		// RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B /
		// %x5D-7E / obs-text.
		switch {
		case c == '"':
			return chunkExtAfterQuote, true
		case c == '\\':
			return chunkExtQuotedPair, true
		case parseClass[c]&classValue != 0:
			return chunkExtQuoted, true
		}
	case chunkExtQuotedPair:
		// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
		if parseClass[c]&classValue != 0 {
			return chunkExtQuoted, true
		}
	}
	return 0, false
}

func (d *ChunkedDecoder) countExt() *Error {
	d.ext++
	if d.ext > d.lim.MaxChunkExt {
		return d.fail(ErrChunkExtTooLong)
	}
	return nil
}

func (d *ChunkedDecoder) countTrailer() *Error {
	d.trailerBytes++
	if d.trailerBytes > d.lim.MaxHeaderBytes {
		return d.fail(ErrHeaderTooLarge)
	}
	return nil
}

func (d *ChunkedDecoder) fail(e *Error) *Error {
	d.state = chunkFailed
	d.err = e
	return e
}

// chunkHex maps a hex digit to its value and anything else to 0xff.
var chunkHex = func() (t [256]uint8) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = uint8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = uint8(c - 'a' + 10)
		t[c-'a'+'A'] = uint8(c - 'a' + 10)
	}
	return t
}()
