//go:build !((linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64)))

package netpoll

// Supported reports whether the backend is built for this platform (and so
// registered): cloudwego/netpoll v0.7.2 builds on linux (amd64, arm64,
// loong64), darwin and freebsd (amd64, arm64). Here it does not, so
// importing this package registers nothing and engine.Start with Backend
// "netpoll" reports that no such backend exists.
const Supported = false

// StartPollers does nothing where the backend is not built.
func StartPollers() {}

// PollerFunction is the function netpoll's pollers run, for goroutine-leak
// checks (goleak.IgnoreAnyFunction) that must not count them.
const PollerFunction = "github.com/cloudwego/netpoll.(*defaultPoll).Wait"
