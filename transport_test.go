package httpd

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test transport frames data in records: a 2-byte big-endian length,
// then the payload XORed with 0x5A. A record of length 0xFFFF is a fault.
// The server side releases at most relStep plaintext bytes per Recv, so
// whole records wait in the transport and Pending reports them.
const (
	xorKey      = 0x5A
	xorGreeting = "XOR-TRANSPORT/1\n"
	xorBye      = "bye"
	xorFault    = 0xFFFF
	relStep     = 16
)

var errXorFault = errors.New("xor transport: fault record")

type xorTransport struct {
	held     []byte // decoded plaintext not yet handed to the server
	greeted  bool
	closed   int
	closeOut *int // counts Close calls for the test
}

func (x *xorTransport) Recv(raw, plain []byte) (int, []byte, error) {
	used := 0
	for len(raw)-used >= 2 {
		n := int(binary.BigEndian.Uint16(raw[used:]))
		if n == xorFault {
			return used + 2, plain, errXorFault
		}
		if len(raw)-used-2 < n {
			break // a partial record stays queued in the connection
		}
		for _, b := range raw[used+2 : used+2+n] {
			x.held = append(x.held, b^xorKey)
		}
		used += 2 + n
	}
	k := min(relStep, len(x.held))
	plain = append(plain, x.held[:k]...)
	x.held = x.held[:copy(x.held, x.held[k:])]
	return used, plain, nil
}

func (x *xorTransport) Send(wire, p []byte) ([]byte, error) { return appendRecords(wire, p, 1000), nil }

func (x *xorTransport) Pending() int { return len(x.held) }

func (x *xorTransport) Flush(wire []byte) []byte {
	if !x.greeted {
		x.greeted = true
		wire = append(wire, xorGreeting...)
	}
	return wire
}

func (x *xorTransport) Close(wire []byte) []byte {
	*x.closeOut++
	return appendRecords(wire, []byte(xorBye), 1000)
}

// appendRecords frames p in records of at most size payload bytes.
func appendRecords(wire, p []byte, size int) []byte {
	for len(p) > 0 {
		k := min(size, len(p))
		wire = binary.BigEndian.AppendUint16(wire, uint16(k))
		for _, b := range p[:k] {
			wire = append(wire, b^xorKey)
		}
		p = p[k:]
	}
	return wire
}

// xorReader decodes the server's records into a plaintext stream.
type xorReader struct {
	r   *bufio.Reader
	buf []byte
}

func (x *xorReader) Read(p []byte) (int, error) {
	for len(x.buf) == 0 {
		var h [2]byte
		if _, err := io.ReadFull(x.r, h[:]); err != nil {
			return 0, err
		}
		rec := make([]byte, binary.BigEndian.Uint16(h[:]))
		if _, err := io.ReadFull(x.r, rec); err != nil {
			return 0, err
		}
		for i := range rec {
			rec[i] ^= xorKey
		}
		x.buf = rec
	}
	n := copy(p, x.buf)
	x.buf = x.buf[n:]
	return n, nil
}

// xorClient is a raw client speaking the test transport.
type xorClient struct {
	t  *testing.T
	c  net.Conn
	rd *xorReader
	br *bufio.Reader // plaintext
}

func dialXor(t *testing.T, srv *Server) *xorClient {
	t.Helper()
	rc := dial(t, srv)
	rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	g := make([]byte, len(xorGreeting))
	if _, err := io.ReadFull(rc.br, g); err != nil || string(g) != xorGreeting {
		t.Fatalf("greeting %q, %v; want %q", g, err, xorGreeting)
	}
	rd := &xorReader{r: rc.br}
	return &xorClient{t: t, c: rc.c, rd: rd, br: bufio.NewReader(rd)}
}

// send frames s in records of recSize bytes and writes the wire bytes in
// pieces of split bytes, so records arrive cut at arbitrary offsets.
func (xc *xorClient) send(s string, recSize, split int) {
	xc.t.Helper()
	wire := appendRecords(nil, []byte(s), recSize)
	for len(wire) > 0 {
		k := min(split, len(wire))
		xc.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := xc.c.Write(wire[:k]); err != nil {
			xc.t.Fatalf("write: %v", err)
		}
		wire = wire[k:]
		if split < 16 {
			time.Sleep(time.Millisecond)
		}
	}
}

func (xc *xorClient) response(method string) (int, string, bool) {
	xc.t.Helper()
	xc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	rc := &rawClient{t: xc.t, c: xc.c, br: xc.br}
	resp := rc.response(method)
	return resp.StatusCode, bodyOf(resp), resp.Close
}

func xorServer(t *testing.T, closes *int, frees *freeLog) *Server {
	t.Helper()
	srv := idServer(t, Config{EventLoops: 1, NewTransport: func(s *Session) (Transport, error) {
		return &xorTransport{closeOut: closes}, nil
	}}, frees)
	mustRegister(t, srv,
		URIHandler{URI: "/echo", Method: "POST", Handler: func(r *Request) error { return r.Send(r.Body()) }},
		URIHandler{URI: "/becho", Method: "POST", Blocking: true, Handler: func(r *Request) error {
			b, err := io.ReadAll(recvReader{r})
			if err != nil {
				return err
			}
			return r.Send(b)
		}},
	)
	return srv
}

func TestTransportRequestsAndPipelining(t *testing.T) {
	var closes int // touched only on the loop, read after Stop
	srv := xorServer(t, &closes, nil)
	body := strings.Repeat("0123456789", 300)
	cases := []struct {
		name           string
		recSize, split int
	}{
		{"one record, one write", 1 << 15, 1 << 20},
		{"small records", 7, 1 << 20},
		{"records cut by writes", 100, 3},
		{"one big record released in steps", 1 << 15, 1 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			xc := dialXor(t, srv)
			pipe := req("GET", "/id") +
				req("POST", "/echo", "Content-Length: 3000") + body +
				req("POST", "/becho", "Transfer-Encoding: chunked") + "5\r\nhello\r\n0\r\n\r\n" +
				req("GET", "/id")
			xc.send(pipe, tc.recSize, tc.split)
			_, id1, _ := xc.response("GET")
			if st, b, _ := xc.response("POST"); st != 200 || b != body {
				t.Errorf("echo: %d, %d bytes", st, len(b))
			}
			if st, b, _ := xc.response("POST"); st != 200 || b != "hello" {
				t.Errorf("blocking echo: %d %q", st, b)
			}
			if _, id2, _ := xc.response("GET"); id1 != id2 || id1 == "" {
				t.Errorf("session IDs %q, %q", id1, id2)
			}
		})
	}
	srv.Stop()
	if closes != len(cases) {
		t.Errorf("transport Close called %d times; want %d", closes, len(cases))
	}
}

// TestTransportPending: a request held entirely inside the transport (one
// record, released 16 bytes per Recv) is served with no further input.
func TestTransportPending(t *testing.T) {
	var closes int
	srv := xorServer(t, &closes, nil)
	xc := dialXor(t, srv)
	r := req("GET", "/id", "X-Pad: "+strings.Repeat("p", 200))
	xc.send(r, 1<<15, 1<<20)
	if st, _, _ := xc.response("GET"); st != 200 {
		t.Fatalf("status %d", st)
	}
}

// TestTransportCloseOutput: the transport's Close output is written before
// the connection ends.
func TestTransportCloseOutput(t *testing.T) {
	var closes int
	srv := xorServer(t, &closes, nil)
	xc := dialXor(t, srv)
	xc.send(req("GET", "/id", "Connection: close"), 1<<15, 1<<20)
	st, _, closed := xc.response("GET")
	if st != 200 || !closed {
		t.Fatalf("status %d close=%v", st, closed)
	}
	rest, err := io.ReadAll(xc.br)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("after the reply: %v", err)
	}
	if string(rest) != xorBye {
		t.Errorf("after the reply %q; want the transport's %q", rest, xorBye)
	}
}

// TestTransportError: a transport receive error closes the session and
// frees it once; other sessions are unaffected.
func TestTransportError(t *testing.T) {
	var closes int
	var frees freeLog
	srv := xorServer(t, &closes, &frees)
	other := dialXor(t, srv)
	other.send(req("GET", "/id"), 1<<15, 1<<20)
	other.response("GET")
	xc := dialXor(t, srv)
	xc.send(req("GET", "/id"), 1<<15, 1<<20)
	_, ids, _ := xc.response("GET")
	v, err := strconv.ParseUint(ids, 10, 64)
	if err != nil {
		t.Fatalf("session ID %q", ids)
	}
	id := SessionID(v)
	xc.c.Write([]byte{0xFF, 0xFF})
	xc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, xc.br)
	waitFor(t, "free of the faulted session", 5*time.Second, func() bool { return frees.count(id) == 1 })
	other.send(req("GET", "/id"), 1<<15, 1<<20)
	if st, _, _ := other.response("GET"); st != 200 {
		t.Errorf("other session: %d", st)
	}
}
