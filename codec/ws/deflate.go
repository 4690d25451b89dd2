package ws

import (
	"errors"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/flate"
)

// deflateTail is the empty stored block that ends a sync flush. RFC 7692
// §7.2.1 removes it from every compressed message; §7.2.2 appends it again
// before inflating.
var deflateTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// errDeflateTail means the flate writer did not end its output with a sync
// flush marker; it would be a bug in the flate library.
var errDeflateTail = errors.New("ws: compressed output lacks the sync flush marker")

// Writers are pooled per configuration: one pool per level for 15-bit
// windows (levels -2..9) and one per smaller window size (8..14 bits).
var writerPools [12 + 7]sync.Pool

func writerPool(level, bits int) *sync.Pool {
	if bits < 15 {
		return &writerPools[12+bits-8]
	}
	return &writerPools[level+2]
}

func getWriter(level, bits int) *flate.Writer {
	if w, ok := writerPool(level, bits).Get().(*flate.Writer); ok {
		return w
	}
	var w *flate.Writer
	if bits < 15 {
		// RFC 7692 §7.1.2.1: matches may reach back at most 2^bits bytes.
		w, _ = flate.NewWriterWindow(nil, 1<<bits)
	} else {
		w, _ = flate.NewWriter(nil, level)
	}
	return w
}

func putWriter(w *flate.Writer, level, bits int) {
	// Drop the references to the caller's output buffer and dictionary.
	w.ResetDict(nil, nil)
	writerPool(level, bits).Put(w)
}

// dictBuf holds the last bytes of a direction's plaintext under context
// takeover (RFC 7692 §7.2.3.2 "use of the LZ77 sliding window"); pooled per
// window size.
type dictBuf struct{ b []byte }

var dictPools [8]sync.Pool // index bits-8

func getDict(bits int) *dictBuf {
	if d, ok := dictPools[bits-8].Get().(*dictBuf); ok {
		d.b = d.b[:0]
		return d
	}
	return &dictBuf{b: make([]byte, 0, 1<<bits)}
}

func putDict(d *dictBuf, bits int) {
	if d != nil {
		dictPools[bits-8].Put(d)
	}
}

// slide appends p to the window and keeps its last cap(d.b) bytes.
func (d *dictBuf) slide(p []byte) {
	size := cap(d.b)
	if len(p) >= size {
		d.b = append(d.b[:0], p[len(p)-size:]...)
		return
	}
	if keep := size - len(p); len(d.b) > keep {
		copy(d.b, d.b[len(d.b)-keep:])
		d.b = d.b[:keep]
	}
	d.b = append(d.b, p...)
}

// appendWriter is the io.Writer a pooled flate.Writer writes into.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func checkBits(bits int) (int, error) {
	switch {
	case bits == 0:
		return 15, nil
	case bits < 8 || bits > 15:
		return 0, ErrDeflateWindowBits
	}
	return bits, nil
}

// Compressor compresses the messages one endpoint sends (RFC 7692 §7.2.1).
// It owns no flate state between messages: a flate.Writer comes from a pool
// for each message and goes back before Compress returns. With context
// takeover the last 2^windowBits bytes of plaintext sent (32 KiB at 15 bits)
// are kept between messages in a pooled buffer and given to the next
// message's writer as its dictionary; priming costs CPU roughly like
// compressing that much data again (see BenchmarkDeflate). Without context
// takeover nothing is kept. The zero value compresses at
// DefaultDeflateLevel with a 15-bit window and no context takeover.
type Compressor struct {
	level    int
	bits     int // 0 means 15
	takeover bool
	dict     *dictBuf
	out      appendWriter
}

// Init configures c and drops any dictionary: windowBits 8..15 (0 means
// 15) is the negotiated window of this direction (for a server,
// DeflateParams.ServerMaxWindowBits), contextTakeover is the negation of its
// no_context_takeover parameter, and level is as in DeflateConfig.Level
// (ignored below 15 bits, where a windowed encoder is used).
func (c *Compressor) Init(windowBits int, contextTakeover bool, level int) error {
	bits, err := checkBits(windowBits)
	if err != nil {
		return err
	}
	if level < -2 || level > 9 {
		return ErrDeflateLevel
	}
	if level == 0 {
		level = DefaultDeflateLevel
	}
	c.Release()
	*c = Compressor{level: level, bits: bits, takeover: contextTakeover}
	return nil
}

// Release returns the dictionary to its pool. Call it when the connection
// closes; the Compressor then starts over as if no message had been sent.
func (c *Compressor) Release() {
	if c.dict != nil {
		putDict(c.dict, c.bits)
		c.dict = nil
	}
}

// DictLen returns the bytes of plaintext kept for context takeover.
func (c *Compressor) DictLen() int {
	if c.dict == nil {
		return 0
	}
	return len(c.dict.b)
}

// Compress appends the compressed form of msg to dst, without the final
// 0x00 0x00 0xff 0xff (RFC 7692 §7.2.1), and returns the extended slice.
// The caller sends it with RSV1 set on the first frame. msg is not retained.
func (c *Compressor) Compress(dst, msg []byte) ([]byte, error) {
	level, bits := c.level, c.bits
	if bits == 0 {
		level, bits = DefaultDeflateLevel, 15
	}
	w := getWriter(level, bits)
	start := len(dst)
	c.out.b = dst
	var dict []byte
	if c.takeover && c.dict != nil {
		dict = c.dict.b
	}
	w.ResetDict(&c.out, dict)
	_, err := w.Write(msg)
	if err == nil {
		err = w.Flush()
	}
	out := c.out.b
	c.out.b = nil
	putWriter(w, level, bits)
	if err != nil {
		return dst, err
	}
	if len(out)-start < 4 || [4]byte(out[len(out)-4:]) != deflateTail {
		return dst, errDeflateTail
	}
	if c.takeover {
		if c.dict == nil {
			c.dict = getDict(bits)
		}
		c.dict.slide(msg)
	}
	return out[:len(out)-4], nil
}

// inflater is a pooled flate reader together with its input.
type inflater struct {
	fr      io.Reader
	rs      flate.Resetter
	in      payloadReader
	scratch [16 << 10]byte
}

var inflaterPool sync.Pool

func getInflater() *inflater {
	if f, ok := inflaterPool.Get().(*inflater); ok {
		return f
	}
	f := new(inflater)
	// payloadReader is an io.ByteReader, so flate reads it directly
	// without a bufio.Reader.
	rc := flate.NewReader(&f.in)
	f.fr, f.rs = rc, rc.(flate.Resetter)
	return f
}

func putInflater(f *inflater) {
	f.in = payloadReader{}
	inflaterPool.Put(f)
}

// payloadReader yields a compressed payload followed by deflateTail.
type payloadReader struct {
	p []byte
	i int // bytes of p and then of deflateTail read
}

func (r *payloadReader) ReadByte() (byte, error) {
	if r.i < len(r.p) {
		c := r.p[r.i]
		r.i++
		return c, nil
	}
	if t := r.i - len(r.p); t < len(deflateTail) {
		r.i++
		return deflateTail[t], nil
	}
	return 0, io.EOF
}

func (r *payloadReader) Read(b []byte) (int, error) {
	n := 0
	if r.i < len(r.p) {
		n = copy(b, r.p[r.i:])
		r.i += n
	}
	for n < len(b) {
		c, err := r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		b[n] = c
		n++
	}
	return n, nil
}

// done reports whether the payload and the tail were consumed.
func (r *payloadReader) done() bool { return r.i == len(r.p)+len(deflateTail) }

// growLimit is the output size up to which Decompress grows dst by doubling.
// Past it, it decompresses into scratch space to learn the size (failing
// without allocation once over the limit) and then allocates exactly once and
// decompresses again.
const growLimit = 64 << 10

// Decompressor inflates the messages one endpoint receives (RFC 7692
// §7.2.2). Like Compressor it owns no flate state between messages; with
// context takeover it keeps the last 2^windowBits bytes of received plaintext
// (32 KiB at 15 bits) in a pooled buffer, because the peer may refer to them.
// The zero value handles a 15-bit window without context takeover.
type Decompressor struct {
	bits     int // 0 means 15
	takeover bool
	dict     *dictBuf
	// lastSize is the inflated size of the last message, the Reader's
	// guess for the next one's output buffer.
	lastSize int
}

// Init configures d and drops any dictionary: windowBits 8..15 (0 means 15)
// is the peer's negotiated window (for a server,
// DeflateParams.ClientMaxWindowBits) and contextTakeover the negation of its
// no_context_takeover parameter.
func (d *Decompressor) Init(windowBits int, contextTakeover bool) error {
	bits, err := checkBits(windowBits)
	if err != nil {
		return err
	}
	d.Release()
	*d = Decompressor{bits: bits, takeover: contextTakeover}
	return nil
}

// Release returns the dictionary to its pool; call it when the connection
// closes.
func (d *Decompressor) Release() {
	if d.dict != nil {
		putDict(d.dict, d.bits)
		d.dict = nil
	}
}

// DictLen returns the bytes of plaintext kept for context takeover.
func (d *Decompressor) DictLen() int {
	if d.dict == nil {
		return 0
	}
	return len(d.dict.b)
}

// maxDecompressLimit keeps limit arithmetic clear of overflow.
const maxDecompressLimit = 1 << 62

// Decompress appends the inflated form of one compressed message payload
// (all its frames' payloads concatenated, RSV1 was set on the first) to dst
// and returns the extended slice. limit caps the inflated size; limit <= 0
// means DefaultMaxMessageSize.
//
// It returns ErrMessageTooBig (1009) as soon as the output would pass limit,
// and ErrBadDeflate (1007) for a stream that is not valid DEFLATE. On error
// dst is returned unextended (its spare capacity may have been written).
//
// Memory: output first fills dst's spare capacity; dst grows by doubling up
// to 64 KiB of output; past that the rest is inflated into a fixed scratch
// buffer only to count it, so an inflate bomb fails at limit having allocated
// at most about 128 KiB, and a large valid message is inflated a second time
// into one exactly sized allocation. Callers that pass a dst with enough
// capacity (a pooled buffer) get one pass and no allocation.
//
// A stream that ends in a final block (BFINAL) is accepted and any bytes
// after it are ignored; one that stops inside a block is accepted only if the
// appended tail completes it, as with other implementations. An empty payload
// therefore yields an empty message.
func (d *Decompressor) Decompress(dst, payload []byte, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxMessageSize
	}
	limit = min(limit, maxDecompressLimit)
	f := getInflater()
	defer putInflater(f)
	var dict []byte
	if d.takeover && d.dict != nil {
		dict = d.dict.b
	}
	start := len(dst)
	f.in = payloadReader{p: payload}
	f.rs.Reset(&f.in, dict)
	for {
		if len(dst) == cap(dst) {
			// dst is full: probe for more output before growing, so a
			// dst of exactly the right size costs nothing.
			n, err := f.fr.Read(f.scratch[:])
			produced := int64(len(dst)-start) + int64(n)
			if produced > limit {
				return dst[:start], ErrMessageTooBig
			}
			if n > 0 && len(dst)-start >= growLimit {
				return d.decompressCounting(f, dst, start, produced, err, dict, payload, limit)
			}
			if n > 0 {
				dst = slices.Grow(dst, max(len(dst)-start, n, 512))
				dst = append(dst, f.scratch[:n]...)
			}
			if err != nil {
				return d.finish(f, err, dst, start)
			}
			continue
		}
		hi := cap(dst)
		if int64(hi-start) > limit {
			hi = start + int(limit) + 1 // read one byte past the limit to detect it
		}
		n, err := f.fr.Read(dst[len(dst):hi])
		dst = dst[:len(dst)+n]
		if int64(len(dst)-start) > limit {
			return dst[:start], ErrMessageTooBig
		}
		if err != nil {
			return d.finish(f, err, dst, start)
		}
	}
}

// finish ends a message on the flate reader's error.
func (d *Decompressor) finish(f *inflater, err error, dst []byte, start int) ([]byte, error) {
	if !f.ended(err) {
		return dst[:start], ErrBadDeflate
	}
	d.lastSize = len(dst) - start
	d.remember(dst[start:])
	return dst, nil
}

// decompressCounting finishes a message that outgrew dst: it counts the rest
// of the output in scratch space, then inflates again into one allocation.
// total is the output size seen so far and err the last read's error.
func (d *Decompressor) decompressCounting(f *inflater, dst []byte, start int, total int64, err error, dict, payload []byte, limit int64) ([]byte, error) {
	for err == nil {
		var n int
		n, err = f.fr.Read(f.scratch[:])
		total += int64(n)
		if total > limit {
			return dst[:start], ErrMessageTooBig
		}
	}
	if !f.ended(err) {
		return dst[:start], ErrBadDeflate
	}
	out := make([]byte, start, start+int(total))
	copy(out, dst[:start])
	f.in = payloadReader{p: payload}
	f.rs.Reset(&f.in, dict)
	for len(out) < cap(out) {
		n, err := f.fr.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if err != nil && len(out) < cap(out) {
			// The first pass succeeded on the same input; inflating is
			// deterministic, so this cannot happen.
			return dst[:start], ErrBadDeflate
		}
	}
	d.lastSize = len(out) - start
	d.remember(out[start:])
	return out, nil
}

// ended reports whether err from the flate reader is the normal end of a
// message: io.EOF after a final block, or io.ErrUnexpectedEOF once the
// payload and the appended tail were consumed (the reader then wants the next
// block header, which the next message will bring).
func (f *inflater) ended(err error) bool {
	return err == io.EOF || err == io.ErrUnexpectedEOF && f.in.done()
}

func (d *Decompressor) remember(plain []byte) {
	if !d.takeover {
		return
	}
	bits := d.bits
	if bits == 0 {
		bits = 15
	}
	if d.dict == nil {
		d.dict = getDict(bits)
	}
	d.dict.slide(plain)
}
