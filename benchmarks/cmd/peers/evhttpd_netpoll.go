//go:build !noevhttpd

package main

import (
	"github.com/evhttpd/httpd/engine/netpoll"
)

// evhttpd on its netpoll engine (cloudwego/netpoll, the poller under
// hertz): the same handlers as evhttpd.go, another poller underneath.
func init() {
	register("evhttpd-netpoll", startEvhttpdNetpoll)
	register("ws-evhttpd-netpoll", startWSEvhttpdNetpoll)
}

// netpollOptions are the netpoll engine's settings for these peers: the
// defaults (callbacks inline on netpoll's pollers), as a server process
// of its own would use them. The tests set Pooled, since they start hertz
// in the same process, and netpoll's runner is process-wide.
var netpollOptions = &netpoll.Options{}

func startEvhttpdNetpoll(c config) (func() error, error) {
	c.engineOptions = netpollOptions
	return evhttpdPlainOn(c, netpoll.Name)
}

func startWSEvhttpdNetpoll(c config) (func() error, error) {
	c.engineOptions = netpollOptions
	return evhttpdWSOn(c, netpoll.Name)
}
