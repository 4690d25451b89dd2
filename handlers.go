package httpd

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	hc "github.com/evhttpd/httpd/codec/http"
	"github.com/evhttpd/httpd/codec/ws"
	"github.com/evhttpd/httpd/internal/ascii"
)

// MethodAny registers a handler for every method (ESP's HTTP_ANY).
const MethodAny = "*"

// HandlerFunc handles one request on the session's event loop (or on a
// worker goroutine for a Blocking handler). A non-nil error closes the
// session after the reply; if nothing was sent yet the client gets 500.
type HandlerFunc func(r *Request) error

// URIHandler is one registration (ESP's httpd_uri_t).
type URIHandler struct {
	// URI is the template matched against the request path (without the
	// query) by Config.URIMatch, exact match by default.
	URI string
	// Method is the request method this handler serves, or MethodAny.
	// Methods are case-sensitive (RFC 9110 §9.1): a standard method in
	// another case ("get") is refused at registration. On one URI a
	// handler for the request's method wins over MethodAny, whatever the
	// order of registration, and a GET handler also serves HEAD (without
	// body bytes) when the URI has no HEAD handler.
	Method string
	// Handler is called for every matching request.
	Handler HandlerFunc
	// UserCtx is returned by Request.UserCtx (ESP's user_ctx).
	UserCtx any
	// Blocking runs the handler on the bounded worker pool instead of the
	// event loop. There Request.Recv streams the body with backpressure and
	// the receive timeout, like httpd_req_recv. When every worker is busy the
	// client is answered 503.
	Blocking bool
	// MaxBodySize overrides Config.MaxBodySize for this handler when > 0.
	MaxBodySize int64

	// IsWebSocket makes the URI a WebSocket endpoint (ESP's is_websocket).
	// Method must be GET and Blocking unset. The handler is called once for
	// the opening handshake (Request.IsWSHandshake; replying refuses the
	// upgrade) and then for every message, or every frame with WSFrames.
	IsWebSocket bool
	// HandleWSControlFrames passes ping, pong and close frames to the
	// handler (ESP's handle_ws_control_frames). The server still checks
	// them and completes the closing handshake if the handler does not.
	// Otherwise pings are answered, pongs dropped and closes echoed.
	HandleWSControlFrames bool
	// Subprotocols lists the subprotocols the endpoint speaks in order of
	// preference (ESP's supported_subprotocol). The first one the client
	// offers, matched exactly, is chosen; none otherwise.
	Subprotocols []string
	// WSMaxMessage caps a received message (frames count against it as
	// they are announced, and inflated size for compressed ones); more gets
	// close 1009. Default DefaultWSMaxMessage (1 MiB).
	WSMaxMessage int64
	// WSMaxFragments caps the frames of one message, so that endless tiny
	// fragments end with close 1009. Default ws.DefaultMaxFragments (65536).
	WSMaxFragments int
	// WSFrames delivers data frames as they complete instead of whole
	// messages (ESP's per-frame httpd_ws_recv_frame). Compressed messages
	// are still delivered whole.
	WSFrames bool
	// WSDeflate enables permessage-deflate (RFC 7692) with this policy;
	// nil leaves it off.
	WSDeflate *ws.DeflateConfig
	// WSCheckOrigin decides whether to accept the handshake's Origin; nil
	// accepts a missing Origin or one naming the request's Host and refuses
	// others with 403.
	WSCheckOrigin func(r *Request) bool
	// WSOnClose runs on the session's loop once for every session this
	// handler upgraded, when it closes for any reason (closing handshake,
	// protocol error, Stop, Shutdown, TriggerClose, LRU purge, a dropped
	// connection): before Config.OnClose and before the session's contexts
	// are freed, so a room can drop its member without a registry of its
	// own. Sessions whose handshake was refused never get it.
	WSOnClose func(s *Session)

	// reuse: the handler's Blocking requests are reused once it returned
	// (internal/reuse; set only by the nethttp bridge).
	reuse bool
}

// ErrHandlerFunc answers an error for which a handler is registered with
// Server.RegisterErrHandler (ESP's httpd_err_handler_func_t). It may send a
// reply; if it does not, none is sent. Returning nil keeps the session open
// where the error allows it (the request was well framed); an error closes it.
type ErrHandlerFunc func(r *Request, status int) error

// Registration errors.
var (
	ErrHandlerExists   = errors.New("httpd: a handler for this URI and method exists")
	ErrHandlersFull    = errors.New("httpd: handler limit reached")
	ErrHandlerNotFound = errors.New("httpd: no such handler")
	ErrInvalidHandler  = errors.New("httpd: handler needs a URI, a method token and a function")
)

type handler struct {
	URIHandler
}

// handlerTable is an immutable snapshot; registrations replace it whole so
// loops read it without locks.
type handlerTable struct {
	list []*handler
	// methods holds every method some handler serves; a request method
	// outside it and standardMethods (and with no MethodAny handler) is
	// answered 501.
	methods map[string]struct{}
	any     bool
	allow   atomic.Pointer[string] // allowAll's answer, built on first use
}

type registry struct {
	mu    sync.Mutex // serialises writers
	table atomic.Pointer[handlerTable]
	max   int
	match func(template, uri string, matchUpTo int) bool
	// patterns: the matcher is MatchPattern, and routing is by precedence
	// (route.go); exact: the default matcher (registration warns about
	// wildcard characters it will not read as such).
	patterns, exact bool

	errMu sync.Mutex
	errs  atomic.Pointer[map[int]ErrHandlerFunc]
}

func (g *registry) init(max int, match func(string, string, int) bool) {
	g.max = max
	g.match = match
	g.patterns = isMatchPattern(match)
	g.exact = reflect.ValueOf(match).Pointer() == reflect.ValueOf(matchExact).Pointer()
	g.table.Store(&handlerTable{methods: map[string]struct{}{}})
	m := map[int]ErrHandlerFunc{}
	g.errs.Store(&m)
}

func (g *registry) rebuild(list []*handler) *handlerTable {
	t := &handlerTable{list: list, methods: make(map[string]struct{}, 8)}
	for _, h := range list {
		if h.Method == MethodAny {
			t.any = true
			continue
		}
		t.methods[h.Method] = struct{}{}
	}
	return t
}

func (g *registry) register(u URIHandler) error {
	if u.URI == "" || u.Handler == nil || !ascii.IsTokenString(u.Method) {
		return ErrInvalidHandler
	}
	for _, m := range standardMethods {
		// Methods are case-sensitive (RFC 9110 §9.1): "get" would never
		// match a GET request, which is never what was meant.
		if u.Method != m && strings.EqualFold(u.Method, m) {
			return fmt.Errorf("%w: method %q never matches: methods are case-sensitive, use %q", ErrInvalidHandler, u.Method, m)
		}
	}
	if u.IsWebSocket && (u.Method != "GET" || u.Blocking) {
		return ErrInvalidHandler
	}
	if u.WSDeflate != nil {
		if err := u.WSDeflate.Validate(); err != nil {
			return errors.Join(ErrInvalidHandler, err)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	old := g.table.Load()
	if len(old.list) >= g.max {
		return ErrHandlersFull
	}
	if g.patterns {
		if err := checkPatterns(old.list, u.URI); err != nil {
			return err
		}
	}
	for _, h := range old.list {
		// ESP's duplicate rule: the new URI is matched against each
		// registered template with the configured matcher (patterns: the
		// same pattern).
		if h.Method == u.Method && (g.patterns && h.URI == u.URI || !g.patterns && g.match(h.URI, u.URI, len(u.URI))) {
			return ErrHandlerExists
		}
	}
	list := make([]*handler, len(old.list), len(old.list)+1)
	copy(list, old.list)
	list = append(list, &handler{u})
	if g.patterns {
		var err error
		if list, err = sortByPrecedence(list); err != nil {
			return err
		}
	}
	g.table.Store(g.rebuild(list))
	return nil
}

// unregister removes handlers whose URI equals uri exactly and, unless
// method is "", whose method equals method. It reports how many it removed.
func (g *registry) unregister(uri, method string, anyMethod bool) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := g.table.Load()
	list := make([]*handler, 0, len(old.list))
	for _, h := range old.list {
		if h.URI == uri && (anyMethod || h.Method == method) {
			continue
		}
		list = append(list, h)
	}
	n := len(old.list) - len(list)
	if n > 0 {
		g.table.Store(g.rebuild(list))
	}
	return n
}

func (g *registry) clear() {
	g.mu.Lock()
	g.table.Store(g.rebuild(nil))
	g.mu.Unlock()
	g.errMu.Lock()
	m := map[int]ErrHandlerFunc{}
	g.errs.Store(&m)
	g.errMu.Unlock()
}

// lookupResult says what the registry found for a request.
type lookupResult uint8

const (
	lookupFound      lookupResult = iota
	lookupNoURI                   // 404
	lookupNoMethod                // 405: the URI exists with other methods
	lookupUnknownVer              // 501: no handler serves this method at all
)

// lookup finds the handler for a request: among the handlers whose
// template matches path, the first registered for exactly method; for
// HEAD, then the first GET handler (RFC 9110 §9.3.2: HEAD is GET without
// the body; WebSocket endpoints excepted); then the first MethodAny
// handler. A specific method always wins over MethodAny, whatever the
// registration order. path is only read during the call.
func (g *registry) lookup(method []byte, path string) (*handler, lookupResult) {
	return g.lookupIn(g.table.Load(), method, path)
}

// lookupIn is lookup in table t.
func (g *registry) lookupIn(t *handlerTable, method []byte, path string) (*handler, lookupResult) {
	var anyH, getH *handler
	uriSeen := false
	best := ""
	if g.patterns {
		best = t.patternURI(path) // the most specific pattern's handlers only
	}
	for _, h := range t.list {
		if g.patterns && h.URI != best || !g.patterns && !g.match(h.URI, path, len(path)) {
			continue
		}
		switch h.Method {
		case string(method):
			return h, lookupFound
		case MethodAny:
			if anyH == nil {
				anyH = h
			}
		case "GET":
			if getH == nil && !h.IsWebSocket {
				getH = h
			}
		}
		uriSeen = true
	}
	if getH != nil && string(method) == "HEAD" {
		return getH, lookupFound
	}
	if anyH != nil {
		return anyH, lookupFound
	}
	if !t.recognised(method) {
		return nil, lookupUnknownVer
	}
	if uriSeen {
		return nil, lookupNoMethod
	}
	return nil, lookupNoURI
}

// routeCache is a loop's memory of the last request it routed to a
// handler: keep-alive and pipelined clients repeat their method and target,
// and a repeat costs two compares instead of a walk over the handlers. The
// answer is a function of the table, the method and the raw target (the
// path, whatever the target's form, is cut from it), so a new table (any
// registration) misses. A URI matcher (Config.URIMatch) must therefore
// be a pure function of its arguments, as ESP's is. Loop only.
type routeCache struct {
	t      *handlerTable
	method []byte
	target []byte
	h      *handler
}

// routeCacheMax bounds the target a routeCache keeps.
const routeCacheMax = 256

// route finds the handler for the request p holds (lookup), through the
// loop's route cache.
func (lp *loop) route(p *hc.Parser) (*handler, lookupResult) {
	g := &lp.srv.reg
	t := g.table.Load()
	m, target := p.Method(), p.Target()
	rc := &lp.routes
	if rc.t == t && string(rc.target) == string(target) && string(rc.method) == string(m) {
		return rc.h, lookupFound
	}
	path := p.Path()
	h, res := g.lookupIn(t, m, unsafe.String(unsafe.SliceData(path), len(path)))
	if res == lookupFound && len(target) <= routeCacheMax {
		rc.t, rc.h = t, h
		rc.method = append(rc.method[:0], m...)
		rc.target = append(rc.target[:0], target...)
	}
	return h, res
}

// standardMethods are the methods every server recognises: RFC 9110's and
// PATCH (RFC 5789). A request with one of them on a URI that has handlers
// for others gets 405, never 501.
var standardMethods = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

// recognised reports whether the server knows method: a standard one, one
// some handler registers, or any method once a MethodAny handler exists.
// Others get 501 (RFC 9110 §15.6.2).
func (t *handlerTable) recognised(method []byte) bool {
	if t.any {
		return true
	}
	for _, m := range standardMethods {
		if string(method) == m {
			return true
		}
	}
	_, ok := t.methods[string(method)]
	return ok
}

// allowFor lists the methods served on path, for the Allow header of a
// 405 (RFC 9110 §15.5.6: a MUST there): each matching handler's method,
// HEAD with GET, and OPTIONS is not added (no handler serves it). Only the
// 405 path calls it.
func (g *registry) allowFor(path string) string {
	t := g.table.Load()
	set := map[string]bool{}
	best := ""
	if g.patterns {
		best = t.patternURI(path)
	}
	for _, h := range t.list {
		if g.patterns && h.URI == best || !g.patterns && g.match(h.URI, path, len(path)) {
			set[h.Method] = true
			if h.Method == "GET" && !h.IsWebSocket {
				set["HEAD"] = true
			}
		}
	}
	return joinMethods(set)
}

func joinMethods(set map[string]bool) string {
	list := make([]string, 0, len(set))
	for m := range set {
		list = append(list, m)
	}
	slices.Sort(list)
	return strings.Join(list, ", ")
}

// allowAll lists the methods the server serves, for OPTIONS * : every
// registered method, HEAD with GET, OPTIONS itself, and every method when a
// MethodAny handler exists. The list is built once per table.
func (g *registry) allowAll() string {
	t := g.table.Load()
	if s := t.allow.Load(); s != nil {
		return *s
	}
	set := map[string]bool{"OPTIONS": true}
	for m := range t.methods {
		set[m] = true
	}
	if t.any {
		for _, m := range standardMethods {
			set[m] = true
		}
	}
	if set["GET"] {
		set["HEAD"] = true
	}
	s := joinMethods(set)
	t.allow.Store(&s)
	return s
}

func (g *registry) setErr(status int, fn ErrHandlerFunc) {
	g.errMu.Lock()
	defer g.errMu.Unlock()
	old := *g.errs.Load()
	m := make(map[int]ErrHandlerFunc, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	if fn == nil {
		delete(m, status)
	} else {
		m[status] = fn
	}
	g.errs.Store(&m)
}

func (g *registry) errHandler(status int) ErrHandlerFunc {
	m := *g.errs.Load()
	if len(m) == 0 {
		return nil
	}
	return m[status]
}
