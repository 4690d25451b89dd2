package main

import (
	"bufio"
	"io"
	"net"
	"sync"

	"github.com/gobwas/ws"
)

func init() { register("ws-gobwas", startWSGobwas) }

// gobwasBufSize is the read and write buffer of each ws-gobwas connection.
const gobwasBufSize = 4096

var errGobwasPath = ws.RejectConnectionError(ws.RejectionStatus(404))

// gobwasServer is gobwas/ws's low-level API on its own listener, as its
// documentation shows: ws.Upgrader reads the handshake straight from the
// net.Conn, then one goroutine per connection reads frame headers with
// ws.ReadHeader, unmasks with ws.Cipher and writes the frame back.
type gobwasServer struct {
	ln    net.Listener
	up    ws.Upgrader
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startWSGobwas(c config) (func() error, error) {
	if c.deflate {
		return nil, errNoDeflate
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return nil, err
	}
	g := &gobwasServer{ln: ln, conns: make(map[net.Conn]struct{})}
	g.up = ws.Upgrader{OnRequest: func(uri []byte) error {
		if string(uri) != "/ws" {
			return errGobwasPath
		}
		return nil
	}}
	g.wg.Add(1)
	go g.accept()
	return g.stop, nil
}

func (g *gobwasServer) accept() {
	defer g.wg.Done()
	for {
		conn, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.mu.Lock()
		g.conns[conn] = struct{}{}
		g.mu.Unlock()
		g.wg.Add(1)
		go g.serve(conn)
	}
}

func (g *gobwasServer) stop() error {
	err := g.ln.Close()
	g.mu.Lock()
	for c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
	return err
}

func (g *gobwasServer) serve(conn net.Conn) {
	defer g.wg.Done()
	defer func() {
		g.mu.Lock()
		delete(g.conns, conn)
		g.mu.Unlock()
		conn.Close()
	}()
	if _, err := g.up.Upgrade(conn); err != nil {
		return
	}
	br := bufio.NewReaderSize(conn, gobwasBufSize)
	bw := bufio.NewWriterSize(conn, gobwasBufSize)
	var payload []byte // reused for every frame; grows to the largest one
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return
		}
		if h.Length > wsMaxMessage {
			return
		}
		if cap(payload) < int(h.Length) {
			payload = make([]byte, h.Length)
		}
		payload = payload[:h.Length]
		if _, err := io.ReadFull(br, payload); err != nil {
			return
		}
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		// Echo data and continuation frames as they came (same opcode and
		// FIN, so fragmented messages stay fragmented); answer ping with
		// pong and close with close (RFC 6455 §5.5).
		out := ws.Header{Fin: h.Fin, OpCode: h.OpCode, Length: h.Length}
		switch h.OpCode {
		case ws.OpPing:
			out.OpCode = ws.OpPong
		case ws.OpPong:
			continue
		}
		if err := ws.WriteHeader(bw, out); err != nil {
			return
		}
		if _, err := bw.Write(payload); err != nil {
			return
		}
		if err := bw.Flush(); err != nil {
			return
		}
		if h.OpCode == ws.OpClose {
			return
		}
	}
}
