package http

// Default limits, used for every zero (or negative) field of Limits.
const (
	DefaultMaxRequestLine = 8192    // bytes of the request line, without its line end
	DefaultMaxHeaderBytes = 32768   // bytes of field lines, line ends included
	DefaultMaxHeaders     = 100     // field lines
	DefaultMaxBodySize    = 8 << 20 // bytes of body (Content-Length or the sum of chunk sizes)
	DefaultMaxChunkExt    = 1024    // bytes of chunk-extension on one chunk-size line
)

// Hard caps. WithDefaults clamps a larger value down to the cap. They exist
// because the Parser records positions in fixed-size integers inside its
// fixed-size field index, so that parsing never allocates.
const (
	// MaxHeadersCap is the capacity of the Parser's field index.
	MaxHeadersCap = 256
	// MaxHeaderBytesCap keeps every field offset, taken from the start of
	// the field section, inside a uint16.
	MaxHeaderBytesCap = 1<<16 - 1
	// MaxRequestLineCap bounds the request line.
	MaxRequestLineCap = 1 << 16
	// MaxChunkExtCap bounds the chunk-extension bytes of one chunk line.
	MaxChunkExtCap = 1 << 16
)

// Limits bounds what a Parser and a ChunkedDecoder accept. The zero value is
// valid: every zero field takes its default.
type Limits struct {
	// MaxRequestLine is the longest request line accepted, in bytes, not
	// counting its line end. Default 8192, cap MaxRequestLineCap. A longer
	// line fails with ErrURITooLong (414) as soon as the excess byte arrives.
	MaxRequestLine int
	// MaxHeaderBytes bounds the field section: the bytes of all field lines
	// including their line ends, not counting the empty line that ends the
	// head. Default 32768, cap MaxHeaderBytesCap. Exceeding it fails with
	// ErrHeaderTooLarge (431). A ChunkedDecoder applies the same budget to
	// the trailer section on its own.
	MaxHeaderBytes int
	// MaxHeaders bounds the number of field lines. Default 100, cap
	// MaxHeadersCap (256). One more field line fails with
	// ErrTooManyHeaders (431) as soon as its first byte arrives. A
	// ChunkedDecoder applies the same count to trailer fields.
	MaxHeaders int
	// MaxBodySize bounds the body: a larger Content-Length fails the head
	// with ErrBodyTooLarge (413) before any body byte is read, and a
	// ChunkedDecoder fails with it when a chunk-size line takes the sum of
	// chunk sizes beyond it. Default 8 MiB; no cap.
	MaxBodySize int64
	// MaxChunkExt bounds the chunk-extension bytes (everything between the
	// chunk size and the CRLF) of one chunk-size line. Default 1024, cap
	// MaxChunkExtCap. Exceeding it fails with ErrChunkExtTooLong (400).
	MaxChunkExt int
}

// WithDefaults returns l with every zero or negative field set to its default
// and every field above its hard cap clamped to the cap. It never fails: a
// Limits value cannot be invalid.
func (l Limits) WithDefaults() Limits {
	l.MaxRequestLine = limitsClamp(l.MaxRequestLine, DefaultMaxRequestLine, MaxRequestLineCap)
	l.MaxHeaderBytes = limitsClamp(l.MaxHeaderBytes, DefaultMaxHeaderBytes, MaxHeaderBytesCap)
	l.MaxHeaders = limitsClamp(l.MaxHeaders, DefaultMaxHeaders, MaxHeadersCap)
	l.MaxChunkExt = limitsClamp(l.MaxChunkExt, DefaultMaxChunkExt, MaxChunkExtCap)
	if l.MaxBodySize <= 0 {
		l.MaxBodySize = DefaultMaxBodySize
	}
	return l
}

func limitsClamp(v, def, hardCap int) int {
	if v <= 0 {
		return def
	}
	return min(v, hardCap)
}
