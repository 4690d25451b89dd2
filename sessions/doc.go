// Package sessions owns the table of live sessions of an evhttpd server: a
// fixed-capacity slab of slots whose IDs carry a generation, so an ID of a
// closed session can never reach the session that reused its slot, plus the
// use stamps of ESP's least-recently-used purge.
//
// The slab is shared by every event loop and by any goroutine that queues
// work: Alloc and Free are lock-free, Get is wait-free, and none of them
// allocates when the stored value is a pointer. Memory is claimed up front,
// SlotBytes per slot, and the capacity is the server's session limit.
//
//	slab, err := sessions.NewSlab[*Session](1024)
//	if err != nil {
//		return err
//	}
//	id, ok := slab.Alloc(sess) // ok false: table full, refuse or purge
//	...
//	if s, ok := slab.Get(id); ok { // false once the session is gone
//		s.stamp = useCounter.Next()
//	}
//	slab.Free(id) // true exactly once
//
// The LRU purge (Slab.Oldest) follows esp_http_server: a global use counter
// stamped into a session on every request, and a linear walk for the smallest
// stamp when a new client finds the table full.
//
// This package implements no wire protocol and cites no RFC; the session
// concept is the one of esp_http_server (httpd_sess.c).
package sessions
