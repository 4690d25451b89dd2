//go:build !noevhttpd

package main

// The tests start every peer in one process, hertz among them, and
// netpoll's runner is process-wide: with evhttpd's default (tasks inline on
// netpoll's pollers) hertz's handlers, which block, would run on a poller
// and stall it. So here evhttpd keeps netpoll's goroutine pool, as a
// process serving Kitex or Hertz too must.
func init() { netpollOptions.Pooled = true }
