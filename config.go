package httpd

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"time"
)

// Config configures a Server. The zero Config is valid: every field documents
// its default, and Start fills zero fields with it. Fields of esp_http_server's
// httpd_config_t that have no meaning in Go (task priority, stack size, core
// affinity) become EventLoops and BlockingWorkers.
type Config struct {
	// Addr is the TCP address to listen on (ESP's server_port). Default
	// "127.0.0.1:8080". Port 0 picks a free port; Server.Addr reports it.
	Addr string

	// Listener, when set, is used instead of listening on Addr. The server
	// owns it from Start on and closes it at Stop.
	Listener net.Listener

	// CtrlAddr is the loopback UDP address of the control socket (ESP's
	// ctrl_port). Default "127.0.0.1:0". Only loopback addresses are accepted.
	CtrlAddr string

	// EventLoops is the number of event loops (ESP runs one server task).
	// Default runtime.GOMAXPROCS(0); 1 gives ESP's single-task model.
	EventLoops int

	// BlockingWorkers bounds the goroutines that run handlers registered
	// with Blocking set. When all are busy a new blocking request is answered
	// 503. A worker's goroutine runs one handler at a time; when it is done
	// it waits for the next Blocking request, up to 32 of them (the rest
	// exit), so a request costs no goroutine start. A handler that
	// streams a reply waits in SendChunk while its client is more than
	// MaxOutbound/2 behind (up to SendWaitTimeout), so clients that do not
	// read can hold workers that long: the default is generous. Default
	// 64 * GOMAXPROCS.
	BlockingWorkers int

	// MaxOpenSockets caps concurrent sessions (ESP's max_open_sockets).
	// Default 10000.
	MaxOpenSockets int

	// LRUPurgeEnable closes a session when a client connects while
	// MaxOpenSockets sessions are open (ESP's lru_purge_enable); without it
	// the newcomer is answered 503 and closed. Sessions that have not
	// completed a request go first: the longest-open one older than
	// LRUGrace; then, while such sessions fill half of MaxOpenSockets or
	// more (a flood of connections that send nothing), the longest-open
	// one even within LRUGrace; only then the session whose last request
	// completed least recently (ESP's rule). A session with queued work or
	// in its TLS handshake is never chosen. Default false.
	LRUPurgeEnable bool

	// LRUGrace protects a new session from LRU purge until it has completed
	// a request or is this old, unless sessions without a completed request
	// fill half the table (see LRUPurgeEnable). Default 1s.
	LRUGrace time.Duration

	// MaxURIHandlers caps registered handlers (ESP's max_uri_handlers).
	// Default 512.
	MaxURIHandlers int

	// MaxRespHeaders caps the headers a handler may add with SetHeader
	// (ESP's max_resp_headers). Default 32.
	MaxRespHeaders int

	// MaxRequestLine bounds the request line: longer gets 414. Default 8 KiB.
	MaxRequestLine int
	// MaxHeaderBytes bounds the header section (and trailers): larger gets
	// 431. Default 32 KiB.
	MaxHeaderBytes int
	// MaxHeaders bounds the number of header fields: more gets 431.
	// Default 100, at most 256.
	MaxHeaders int
	// MaxBodySize bounds a request body unless the handler sets its own:
	// a larger declared length gets 413 before the body is read. Default 8 MiB.
	MaxBodySize int64

	// MaxDrain is how many bytes of an unread request body the server reads
	// and discards after the handler returns to keep the connection; a larger
	// remainder closes the connection instead. Default 256 KiB.
	MaxDrain int64

	// MaxOutbound bounds the reply bytes queued for a session: past it the
	// session takes no new request or WebSocket message until the client
	// has read half of it (a single larger reply is still sent whole), and
	// the input it keeps sending meanwhile is capped at MaxOutbound plus
	// MaxRequestLine and MaxHeaderBytes, past which the session closes.
	// Output that makes no progress for SendWaitTimeout resets the session.
	// Default 4 MiB.
	MaxOutbound int

	// HeaderTimeout bounds the time from the first byte of a request to the
	// end of its header section: a stalled head gets 408 and close.
	// Default 10s.
	HeaderTimeout time.Duration
	// RecvWaitTimeout bounds the wait for more body bytes (ESP's
	// recv_wait_timeout): on expiry the client gets 408 "Server closed this
	// connection" and the session closes. Default 5s.
	RecvWaitTimeout time.Duration
	// BodyTimeout bounds the time a request body may take from the end of
	// its head to its last byte, however steadily it trickles in: past it
	// the client gets 408 and the session closes. Default 2m.
	BodyTimeout time.Duration
	// MinBodyRate is the slowest average rate, in bytes per second, at
	// which a body may arrive: the body's deadline starts RecvWaitTimeout
	// after its head and moves one second later for every MinBodyRate bytes
	// received (never past BodyTimeout). A body slower than that gets 408
	// and close, so a client sending a byte a second cannot hold a session
	// (or a Blocking worker) for ever. Default 1024; -1 disables the rate
	// check (BodyTimeout still applies).
	MinBodyRate int64
	// BlockingPrebuffer is how much of a Blocking handler's body the loop
	// receives before the handler is given a worker: a Content-Length body
	// arrives whole, or its first BlockingPrebuffer bytes, before a worker
	// is taken, so a slow client costs no worker while it sends them (the
	// rest streams through Request.Recv; chunked bodies stream at once).
	// The bytes count against MaxBufferedBytes, also once handed to the
	// handler: on the gnet engine, 64 KiB or more of them go to it in the
	// buffer they were received in, without a copy. Default 1 MiB; -1
	// disables it.
	BlockingPrebuffer int
	// MaxBufferedBytes is the server-wide budget for input and output held
	// for sessions (bytes received and not yet consumed, replies queued
	// and not yet sent, each rounded up to the power of two the engine's
	// doubling buffers use; a Content-Length body being received whole
	// counts the larger steps its buffer grows in on gnet, up to 4x what
	// has arrived and at most the body). When the total goes over it, the sessions holding
	// the most are reset (TCP RST) until it is back under 7/8 of it.
	// Default 64 * (MaxOutbound + MaxBodySize) capped to 1 GiB, and never
	// below 4 * (MaxOutbound + MaxBodySize); -1 disables it.
	MaxBufferedBytes int64
	// SendWaitTimeout bounds how long queued output may make no progress
	// (ESP's send_wait_timeout) before the session closes. Default 5s.
	SendWaitTimeout time.Duration
	// IdleTimeout closes a keep-alive session with no request in progress
	// after this long. Default 60s.
	IdleTimeout time.Duration
	// WSIdleTimeout closes a WebSocket session that received nothing for
	// this long. Default 0: WebSocket sessions have no idle limit.
	WSIdleTimeout time.Duration
	// LingerTimeout bounds how long a connection closed after an error reply
	// keeps draining input so the client reads the reply rather than a
	// reset. Default 2s (and at most MaxDrain bytes).
	LingerTimeout time.Duration

	// TCPKeepAlive enables TCP keep-alive probes with this idle time (ESP's
	// keep_alive_enable/keep_alive_idle). Default 0: the OS default.
	TCPKeepAlive time.Duration

	// EnrollQueue caps how many accepted connections may be on their way
	// into an event loop at once; the acceptor waits while it is full. Each
	// one in flight runs on a pooled goroutine of gnet's, which stays alive
	// (with its stack) for 10 s after its last use, so a small bound keeps a
	// connection burst from leaving hundreds of them behind. Default 0: 8 per
	// event loop. Only the gnet engine has it (gnet.Options.EnrollQueue,
	// which it sets); other engines enrol nothing and ignore it.
	EnrollQueue int

	// Engine names the poller backend: "gnet" (the default, always linked
	// in) or "netpoll" (cloudwego/netpoll; import
	// github.com/evhttpd/httpd/engine/netpoll to link it in, on linux,
	// darwin and freebsd). A name no imported package registered is an
	// error. Default "": gnet.
	Engine string
	// EngineOptions are the chosen engine's own settings, a pointer to its
	// package's Options (*gnet.Options, *netpoll.Options); nil means its
	// defaults, another type is an error.
	EngineOptions any

	// GlobalUserCtx is returned by Server.GlobalUserCtx and freed with
	// GlobalUserCtxFree at Stop (ESP's global_user_ctx).
	GlobalUserCtx     any
	GlobalUserCtxFree func(any)

	// URIMatch overrides exact URI matching (ESP's uri_match_fn): it reports
	// whether the registered template matches uri[:matchUpTo] (the path
	// without the query). MatchWildcard gives ESP's wildcard rules. It must
	// be a pure function of its arguments: each loop remembers the handler
	// its last request was routed to and gives the same method and target
	// the same handler until a registration changes the table.
	URIMatch func(template, uri string, matchUpTo int) bool

	// OnOpen runs on the session's loop when a connection opens (ESP's
	// open_fn). A non-nil error closes the session.
	OnOpen func(s *Session) error
	// OnClose runs on the session's loop when a session closes, before its
	// context is freed (ESP's close_fn).
	OnClose func(s *Session)

	// NewTransport, when set, installs a Transport on every new session
	// before OnOpen runs (ESP's send/recv/pending overrides set from the
	// open hook). An error or a nil Transport closes the session.
	NewTransport func(s *Session) (Transport, error)

	// TLS, when set, serves HTTPS (ESP's esp_https_server): Start installs
	// NewTLSTransport(TLS) as NewTransport, which must then be nil (wrap
	// NewTLSTransport in your own hook to combine them). It needs a
	// certificate (Certificates, GetCertificate or GetConfigForClient);
	// NextProtos defaults to ["http/1.1"]; a non-nil ClientCAs with
	// RequireAndVerifyClientCert is ESP's cacert (mutual TLS). See
	// TLSConfigFromPEM. Default nil: plain HTTP.
	TLS *tls.Config
	// TLSMode: TLSSecure (the default) serves HTTPS when TLS is set;
	// TLSInsecure serves plain HTTP anyway (ESP's transport_mode).
	TLSMode TLSMode
	// TLSHandshakeTimeout bounds a TLS handshake, counted from accept: a
	// client that has not completed it by then is closed. Default 10s.
	TLSHandshakeTimeout time.Duration
	// TLSHandshakeWorkers bounds the TLS handshakes that compute at once,
	// off the event loops. A handshake holds a worker only while it
	// computes, never while it waits for the client's next flight, so
	// clients that stall mid-handshake do not delay others. Default
	// 2 * GOMAXPROCS.
	TLSHandshakeWorkers int
	// TLSHandshakeQueue bounds the TLS handshakes in progress beyond
	// TLSHandshakeWorkers: those waiting for a worker and those waiting for
	// the client (each of the latter keeps a parked goroutine, about 8 KiB
	// of stack, plus its handshake state). A handshake counts from its
	// complete ClientHello to its end; past TLSHandshakeWorkers +
	// TLSHandshakeQueue in progress, a new one is refused and its
	// connection closed (EventError matching ErrTLSHandshakeBusy).
	// Default 1024.
	TLSHandshakeQueue int

	// OnEvent receives server events (ESP's ESP_HTTP_SERVER_EVENT). It runs
	// on the event loop of the session concerned and must not block.
	OnEvent func(Event)

	// Logger receives the server's logs; nil means slog.Default(). Nothing
	// is logged per request or frame at Info or above.
	Logger *slog.Logger

	// TimerResolution is the granularity of the timeouts above. Default 50ms.
	TimerResolution time.Duration

	// OnRequestDone is called once per HTTP request when its reply ended
	// (a handler's, an error reply's, a Blocking handler's), on the
	// session's event loop; it must not block. The RequestDone is valid
	// only during the call. AccessLog returns one that logs. nil: none.
	OnRequestDone func(*RequestDone)
}

// Defaults for Config fields.
const (
	DefaultAddr              = "127.0.0.1:8080"
	DefaultMaxOpenSockets    = 10000
	DefaultMaxURIHandlers    = 512
	DefaultMaxRespHeaders    = 32
	DefaultMaxRequestLine    = 8 << 10
	DefaultMaxHeaderBytes    = 32 << 10
	DefaultMaxHeaders        = 100
	DefaultMaxBodySize       = 8 << 20
	DefaultMaxDrain          = 256 << 10
	DefaultMaxOutbound       = 4 << 20
	DefaultHeaderTimeout     = 10 * time.Second
	DefaultRecvWaitTimeout   = 5 * time.Second
	DefaultSendWaitTimeout   = 5 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultLingerTimeout     = 2 * time.Second
	DefaultBodyTimeout       = 2 * time.Minute
	DefaultMinBodyRate       = 1024
	DefaultBlockingPrebuffer = 1 << 20
	DefaultLRUGrace          = time.Second
	DefaultTimerResolution   = 50 * time.Millisecond
)

// ErrInvalidConfig is wrapped by every configuration error Start returns.
var ErrInvalidConfig = errors.New("httpd: invalid config")

func (c Config) withDefaults() (Config, error) {
	bad := func(msg string) (Config, error) {
		return c, errors.Join(ErrInvalidConfig, errors.New("httpd: "+msg))
	}
	if c.Addr == "" && c.Listener == nil {
		c.Addr = DefaultAddr
	}
	if c.CtrlAddr == "" {
		c.CtrlAddr = "127.0.0.1:0"
	}
	procs := runtime.GOMAXPROCS(0)
	setInt := func(p *int, def int) bool {
		if *p == 0 {
			*p = def
		}
		return *p > 0
	}
	setDur := func(p *time.Duration, def time.Duration) bool {
		if *p == 0 {
			*p = def
		}
		return *p > 0
	}
	switch {
	case !setInt(&c.EventLoops, procs) || c.EventLoops > 1024:
		return bad("EventLoops must be 1..1024")
	case !setInt(&c.BlockingWorkers, 64*procs):
		return bad("BlockingWorkers must be positive")
	case !setInt(&c.MaxOpenSockets, DefaultMaxOpenSockets) || c.MaxOpenSockets > 1<<22:
		return bad("MaxOpenSockets must be 1..4194304")
	case !setInt(&c.MaxURIHandlers, DefaultMaxURIHandlers):
		return bad("MaxURIHandlers must be positive")
	case !setInt(&c.MaxRespHeaders, DefaultMaxRespHeaders):
		return bad("MaxRespHeaders must be positive")
	case !setInt(&c.MaxRequestLine, DefaultMaxRequestLine) || c.MaxRequestLine > 64<<10:
		return bad("MaxRequestLine must be 1..65536")
	case !setInt(&c.MaxHeaderBytes, DefaultMaxHeaderBytes) || c.MaxHeaderBytes > 60<<10:
		return bad("MaxHeaderBytes must be 1..61440")
	case !setInt(&c.MaxHeaders, DefaultMaxHeaders) || c.MaxHeaders > 256:
		return bad("MaxHeaders must be 1..256")
	case !setInt(&c.MaxOutbound, DefaultMaxOutbound):
		return bad("MaxOutbound must be positive")
	case !setDur(&c.HeaderTimeout, DefaultHeaderTimeout),
		!setDur(&c.RecvWaitTimeout, DefaultRecvWaitTimeout),
		!setDur(&c.SendWaitTimeout, DefaultSendWaitTimeout),
		!setDur(&c.IdleTimeout, DefaultIdleTimeout),
		!setDur(&c.BodyTimeout, DefaultBodyTimeout),
		!setDur(&c.LingerTimeout, DefaultLingerTimeout),
		!setDur(&c.LRUGrace, DefaultLRUGrace),
		!setDur(&c.TimerResolution, DefaultTimerResolution):
		return bad("timeouts must be positive")
	case c.TCPKeepAlive < 0:
		return bad("TCPKeepAlive must not be negative")
	case c.EnrollQueue < 0:
		return bad("EnrollQueue must not be negative")
	case !setDur(&c.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout),
		!setInt(&c.TLSHandshakeWorkers, 2*procs),
		!setInt(&c.TLSHandshakeQueue, DefaultTLSHandshakeQueue):
		return bad("TLS handshake timeout, workers and queue must be positive")
	case c.TLSMode > TLSInsecure:
		return bad("unknown TLSMode")
	}
	if c.TLS != nil && c.TLSMode == TLSSecure {
		if c.NewTransport != nil {
			return bad("TLS and NewTransport are exclusive: wrap NewTLSTransport in NewTransport")
		}
		if err := checkTLSConfig(c.TLS); err != nil {
			return c, errors.Join(ErrInvalidConfig, err)
		}
		c.NewTransport = NewTLSTransport(c.TLS)
	}
	if c.MaxBodySize == 0 {
		c.MaxBodySize = DefaultMaxBodySize
	}
	if c.MaxBodySize < 0 {
		return bad("MaxBodySize must be positive")
	}
	if c.MaxDrain == 0 {
		c.MaxDrain = DefaultMaxDrain
	}
	if c.MaxDrain < 0 {
		return bad("MaxDrain must be positive")
	}
	switch {
	case c.MinBodyRate == 0:
		c.MinBodyRate = DefaultMinBodyRate
	case c.MinBodyRate < -1:
		return bad("MinBodyRate must be positive or -1")
	}
	switch {
	case c.BlockingPrebuffer == 0:
		c.BlockingPrebuffer = DefaultBlockingPrebuffer
	case c.BlockingPrebuffer < -1 || c.BlockingPrebuffer > 64<<20:
		return bad("BlockingPrebuffer must be 1..67108864 or -1")
	}
	switch per := int64(c.MaxOutbound) + c.MaxBodySize; {
	case c.MaxBufferedBytes == 0:
		c.MaxBufferedBytes = max(min(64*per, 1<<30), 4*per)
	case c.MaxBufferedBytes < -1:
		return bad("MaxBufferedBytes must be positive or -1")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
