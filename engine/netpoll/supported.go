//go:build (linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64))

package netpoll

import "github.com/cloudwego/netpoll"

// Supported reports whether the backend is built for this platform (and so
// registered): cloudwego/netpoll v0.7.2 builds on linux (amd64, arm64,
// loong64), darwin and freebsd (amd64, arm64).
const Supported = true

// StartPollers starts netpoll's process-wide pollers now; otherwise the
// first Start does. They live as long as the process (each holds a
// goroutine and two descriptors), so tests that compare goroutine and
// descriptor counts before and after a server call this first.
func StartPollers() { netpoll.Initialize() }

// PollerFunction is the function netpoll's pollers run, for goroutine-leak
// checks (goleak.IgnoreAnyFunction) that must not count them.
const PollerFunction = "github.com/cloudwego/netpoll.(*defaultPoll).Wait"
