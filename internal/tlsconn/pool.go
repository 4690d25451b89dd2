package tlsconn

import (
	"container/list"
	"sync"
)

// Pool bounds the TLS handshakes in progress off the loops. A handshake
// holds one of places (workers + queue) from its admission (a complete
// ClientHello) to its end, and one of the worker slots only while it
// computes. Runnable handshakes that find no free slot wait in one FIFO
// line: admitted ones not started yet (no goroutine) and parked ones whose
// peer sent more (their goroutine waits on its memConn's cond for a
// grant). A freed slot passes straight to the head of the line.
//
// Lock order: Pool.mu before memConn.mu.
type Pool struct {
	mu         sync.Mutex
	free       int // worker slots nobody holds
	places     int // handshakes in progress allowed
	inProgress int
	line       list.List // of *Conn: runnable handshakes waiting for a slot, at most places
}

// NewPool returns a pool that lets workers handshakes compute at once and
// workers + queue be in progress (computing, parked waiting for their
// peer, or waiting for a slot). Its goroutines exist only while
// handshakes are in progress.
func NewPool(workers, queue int) *Pool {
	return &Pool{free: workers, places: workers + queue}
}

// submit admits t's handshake, starting its goroutine if a slot is free
// and nobody waits for one, and reports false when every place is taken.
func (p *Pool) submit(t *Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inProgress >= p.places {
		return false
	}
	p.inProgress++
	if p.free > 0 && p.line.Len() == 0 {
		p.free--
		t.started = true
		go t.run()
		return true
	}
	p.pushLocked(t)
	return true
}

// acquire takes a worker slot for t's goroutine, waiting in line if none is
// free, and reports false (no slot) when t's memConn closed meanwhile.
func (p *Pool) acquire(t *Conn) bool {
	p.mu.Lock()
	if p.free > 0 && p.line.Len() == 0 {
		p.free--
		p.mu.Unlock()
		return true
	}
	p.pushLocked(t)
	p.mu.Unlock()
	m := &t.m
	m.mu.Lock()
	for !m.granted && !m.closed {
		m.cond.Wait()
	}
	m.mu.Unlock()
	// Out of the line means granted: passLocked takes t out and sets
	// granted under p.mu, so once p.mu is held here both are settled.
	p.mu.Lock()
	got := t.inLine == nil
	if !got {
		p.removeLocked(t)
	}
	p.mu.Unlock()
	m.mu.Lock()
	m.granted = false
	m.mu.Unlock()
	return got
}

// release gives back a worker slot.
func (p *Pool) release() {
	p.mu.Lock()
	p.passLocked()
	p.mu.Unlock()
}

// done ends a handshake goroutine: its place frees, and its slot if it
// holds one.
func (p *Pool) done(slot bool) {
	p.mu.Lock()
	p.inProgress--
	if slot {
		p.passLocked()
	}
	p.mu.Unlock()
}

// cancel frees the place of t's handshake when it ended (failed, timed out
// or its Conn closed) before its goroutine started; a started goroutine
// frees its own.
func (p *Pool) cancel(t *Conn) {
	p.mu.Lock()
	if t.inLine != nil && !t.started {
		p.removeLocked(t)
		p.inProgress--
	}
	p.mu.Unlock()
}

// passLocked hands a freed slot to the head of the line, or keeps it.
func (p *Pool) passLocked() {
	if p.line.Len() == 0 {
		p.free++
		return
	}
	t := p.line.Front().Value.(*Conn)
	p.removeLocked(t)
	if !t.started {
		t.started = true
		go t.run()
		return
	}
	t.m.mu.Lock()
	t.m.granted = true
	t.m.cond.Signal()
	t.m.mu.Unlock()
}

func (p *Pool) pushLocked(t *Conn) {
	t.inLine = p.line.PushBack(t)
}

func (p *Pool) removeLocked(t *Conn) {
	p.line.Remove(t.inLine)
	t.inLine = nil
}
