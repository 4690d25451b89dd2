package gnet

import (
	"reflect"
	"sync"
)

// Reading a socket is paused through the poller that gnet runs for the
// connection's loop: gnet v2.10.0 has no call for it, and keeps its
// poller's descriptor in unexported fields (conn.loop.poller.fd). They are
// read once per loop by reflection; if the layout of a future gnet differs,
// pollerFd reports false and PauseRead does nothing (TestPauseRead fails
// loudly first).

// pollerFd returns the descriptor of the epoll or kqueue instance that
// serves the gnet connection gc.
func pollerFd(gc any) (int, bool) {
	v := reflect.ValueOf(gc)
	for _, name := range [...]string{"loop", "poller", "fd"} {
		if v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return -1, false
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return -1, false
		}
		if v = v.FieldByName(name); !v.IsValid() {
			return -1, false
		}
	}
	if v.Kind() != reflect.Int {
		return -1, false
	}
	return int(v.Int()), true
}

// pollerFdOnce caches a loop's poller descriptor.
type pollerFdOnce struct {
	once sync.Once
	fd   int
	ok   bool
}

func (p *pollerFdOnce) get(gc any) (int, bool) {
	p.once.Do(func() { p.fd, p.ok = pollerFd(gc) })
	return p.fd, p.ok
}
