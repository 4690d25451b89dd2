package httpd

// This file holds server events (ESP's ESP_HTTP_SERVER_EVENT kinds) and
// their emission to Config.OnEvent.

import "github.com/evhttpd/httpd/sessions"

// EventKind names a server event. The kinds and their payloads follow
// esp_http_server's esp_http_server_event_id_t.
type EventKind uint8

// Event kinds, in ESP's order.
const (
	EventError        EventKind = iota // Err set (ESP: HTTP_SERVER_EVENT_ERROR with the httpd_err_code)
	EventStart                         // the server started
	EventOnConnected                   // a session opened; ID, Fd
	EventOnHeader                      // a request head was received; ID, Fd
	EventHeadersSent                   // response headers were queued for sending; ID, Fd
	EventOnData                        // request body bytes were received; ID, Fd, Len
	EventSentData                      // response bytes were queued for sending; ID, Fd, Len
	EventDisconnected                  // a session closed; ID, Fd
	EventStop                          // the server stopped
	// EventTLSHandshakeDone: an HTTPS session completed its TLS handshake;
	// ID, Fd (ESP: HTTPS_SERVER_EVENT_ON_CONNECTED).
	EventTLSHandshakeDone
)

var eventNames = [...]string{
	EventError:        "ERROR",
	EventStart:        "START",
	EventOnConnected:  "ON_CONNECTED",
	EventOnHeader:     "ON_HEADER",
	EventHeadersSent:  "HEADERS_SENT",
	EventOnData:       "ON_DATA",
	EventSentData:     "SENT_DATA",
	EventDisconnected: "DISCONNECTED",
	EventStop:         "STOP",

	EventTLSHandshakeDone: "TLS_HANDSHAKE_DONE",
}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "EventKind(?)"
}

// Event is what Config.OnEvent receives. It is passed by value and holds no
// reference into the server's buffers.
type Event struct {
	Kind EventKind
	ID   sessions.ID // the session concerned, 0 for server-wide events
	Fd   int         // the session's socket descriptor, -1 for server-wide events
	Len  int         // byte count for EventOnData and EventSentData
	// Status is the HTTP status of the error for EventError when the error
	// is a protocol error answered with a status (ESP's httpd_err_code).
	Status int
	Err    error
}

func (s *Server) emit(e Event) {
	if f := s.cfg.OnEvent; f != nil {
		f(e)
	}
}

// emitError reports an error on the session (EventError), with the HTTP
// status it was answered with, 0 if none.
func (c *Session) emitError(status int, err error) {
	if f := c.lp.srv.cfg.OnEvent; f != nil {
		f(Event{Kind: EventError, ID: c.id, Fd: c.ec.Fd(), Status: status, Err: err})
	}
}

// emit emits an event about the session. It is inlined into the request
// path, where it runs several times per request: without an OnEvent it
// costs a nil check, not a call.
func (c *Session) emit(k EventKind, n int) {
	if c.lp.srv.cfg.OnEvent != nil {
		c.emitEvent(k, n)
	}
}

func (c *Session) emitEvent(k EventKind, n int) {
	c.lp.srv.cfg.OnEvent(Event{Kind: k, ID: c.id, Fd: c.ec.Fd(), Len: n})
}
