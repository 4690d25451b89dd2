//go:build !linux

package main

import "errors"

// defaultEngine is the echo engine used without -engine: the event-driven
// one is Linux-only.
const defaultEngine = engineGoroutine

var errEpollOS = errors.New("wsload: -engine epoll is Linux-only")

// newEpollEngine refuses: epoll exists only on Linux.
func newEpollEngine(options, []*client, []byte, int) (engine, error) {
	return nil, errEpollOS
}
