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

func startEvhttpdNetpoll(c config) (func() error, error) { return evhttpdPlainOn(c, netpoll.Name) }

func startWSEvhttpdNetpoll(c config) (func() error, error) { return evhttpdWSOn(c, netpoll.Name) }
