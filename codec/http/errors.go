package http

import "errors"

// Error is a protocol violation found by the Parser or the ChunkedDecoder:
// the status code to answer with and whether the connection must close after
// the answer. The parser returns only the pre-allocated sentinels below, so
// compare with errors.Is or == and never modify one.
type Error struct {
	Status int    // HTTP status code of the answer (400, 413, 414, 417, 431, 501, 505)
	Close  bool   // reports whether the connection must close after the answer
	Reason string // short lower-case text; never quotes peer input
}

// Error returns "http: " followed by Reason. It allocates, so the hot path
// never calls it; it is for logs.
func (e *Error) Error() string { return "http: " + e.Reason }

// ErrNeedMore is returned by Parser.ParseHead while the head is incomplete.
// It is not an *Error: call again with the same bytes followed by more.
var ErrNeedMore = errors.New("http: need more data")

// Every sentinel has Close set. A failed head leaves the connection at an
// unknown position inside the request (the parser stops at the first bad
// byte, and the body framing of the request may be unknown or distrusted), so
// the only safe continuation is to answer and close (RFC 9112 §11.2: a server
// must not guess message boundaries).
var (
	// Request line (RFC 9112 §3).
	ErrBadRequestLine = &Error{400, true, "malformed request line"}
	ErrMethod         = &Error{400, true, "invalid method"}
	ErrBadTarget      = &Error{400, true, "invalid request target"}
	// ErrTargetForm answers a request-target form the method does not
	// take (RFC 9112 §3.2): authority-form without CONNECT, asterisk-form
	// without OPTIONS, CONNECT with another form.
	ErrTargetForm = &Error{400, true, "request target form not allowed with this method"}
	// ErrTargetScheme answers an absolute-form target whose scheme is not
	// http or https: this server is no proxy.
	ErrTargetScheme = &Error{400, true, "request target scheme not http or https"}
	// ErrTargetUserinfo answers an absolute-form target with userinfo
	// ("http://user@host/"), which RFC 9110 §4.2.4 forbids senders.
	ErrTargetUserinfo = &Error{400, true, "userinfo in request target"}
	ErrURITooLong     = &Error{414, true, "request line too long"}
	ErrVersion        = &Error{505, true, "HTTP version not supported"}
	ErrBadVersion     = &Error{400, true, "malformed HTTP version"}

	// Field section (RFC 9112 §5, RFC 9110 §5).
	ErrHeaderTooLarge = &Error{431, true, "header section too large"}
	ErrTooManyHeaders = &Error{431, true, "too many header fields"}
	ErrBadHeaderName  = &Error{400, true, "invalid header field name"}
	ErrBadHeaderValue = &Error{400, true, "invalid header field value"}
	ErrObsFold        = &Error{400, true, "obsolete line folding"}
	ErrBareCR         = &Error{400, true, "bare CR"}
	ErrMissingHost    = &Error{400, true, "missing Host header"}
	ErrDuplicateHost  = &Error{400, true, "duplicate Host header"}
	// ErrBadHost answers a Host field whose value is neither empty nor a
	// valid uri-host [ ":" port ] (RFC 9112 §3.2, RFC 9110 §7.2).
	ErrBadHost = &Error{400, true, "invalid Host header"}

	// ErrExpectation answers an Expect field other than 100-continue (RFC
	// 9110 §10.1.1). It closes: the request's body, if any, stays unread.
	ErrExpectation = &Error{417, true, "unsupported expectation"}

	// Message framing (RFC 9112 §6).
	ErrContentLength     = &Error{400, true, "invalid Content-Length"}
	ErrConflictingLength = &Error{400, true, "conflicting Content-Length"}
	ErrCLAndTE           = &Error{400, true, "both Content-Length and Transfer-Encoding"}
	ErrUnsupportedTE     = &Error{501, true, "unsupported transfer coding"}
	ErrBadTE             = &Error{400, true, "invalid Transfer-Encoding"}
	ErrTEHTTP10          = &Error{400, true, "Transfer-Encoding in an HTTP/1.0 request"}
	ErrBodyTooLarge      = &Error{413, true, "body too large"}

	// Chunked transfer coding (RFC 9112 §7.1).
	ErrBadChunk        = &Error{400, true, "malformed chunked encoding"}
	ErrChunkExtTooLong = &Error{400, true, "chunk extension too long"}
)
