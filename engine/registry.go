package engine

import (
	"fmt"
	"slices"
	"sync"
)

// Backend starts engines on one poller library. A backend's package
// registers it in its init function, the way database/sql drivers do, so
// importing the package (import _ ".../engine/netpoll") is what links the
// backend and its dependencies into a program.
type Backend interface {
	// Start validates cfg (cfg.WithDefaults with the backend's own Loops
	// limit, then its Options), binds the listener and the control socket,
	// starts the loops, then starts accepting. Invalid configuration is
	// reported with an error wrapping ErrConfig.
	Start(cfg Config, h Handler) (Engine, error)
}

// BackendFunc adapts a function to Backend.
type BackendFunc func(cfg Config, h Handler) (Engine, error)

// Start calls f.
func (f BackendFunc) Start(cfg Config, h Handler) (Engine, error) { return f(cfg, h) }

// DefaultBackend is the backend Start runs when Config.Backend is empty.
// Its package (engine/gnet) is imported by the httpd package itself.
const DefaultBackend = "gnet"

var (
	backendsMu sync.RWMutex
	backends   = map[string]Backend{}
)

// Register makes a backend available under name. It panics if name is
// empty or taken, or b is nil: both are programming errors found at init.
func Register(name string, b Backend) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if name == "" || b == nil {
		panic("engine: Register with an empty name or a nil backend")
	}
	if _, dup := backends[name]; dup {
		panic("engine: Register called twice for backend " + name)
	}
	backends[name] = b
}

// Backends returns the names of the registered backends, sorted.
func Backends() []string {
	backendsMu.RLock()
	defer backendsMu.RUnlock()
	names := make([]string, 0, len(backends))
	for n := range backends {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Start starts an engine on the backend cfg.Backend names (DefaultBackend
// when empty). A name no package registered is an ErrConfig.
func Start(cfg Config, h Handler) (Engine, error) {
	if h == nil {
		return nil, ErrNoHandler
	}
	if cfg.Backend == "" {
		cfg.Backend = DefaultBackend
	}
	backendsMu.RLock()
	b := backends[cfg.Backend]
	backendsMu.RUnlock()
	if b == nil {
		return nil, configError(fmt.Sprintf("no backend %q (registered: %v; is its package imported?)", cfg.Backend, Backends()))
	}
	return b.Start(cfg, h)
}
