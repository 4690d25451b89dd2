package http

// StatusText returns the reason phrase registered for code in the IANA HTTP
// Status Code Registry (RFC 9110 §15 and the RFCs that extend it), for example
// "OK" or "Not Found". It returns "" when code is not registered.
//
// The phrases are the RFC ones. esp_http_server writes its own wording on a few
// of its error status lines ("501 Method Not Implemented", "505 Version Not
// Supported"); evhttpd answers with the registered phrases instead, which
// clients ignore anyway (RFC 9112 §4: a client SHOULD ignore the reason-phrase).
func StatusText(code int) string {
	switch code {
	// 1xx Informational, RFC 9110 §15.2.
	case 100:
		return "Continue"
	case 101:
		return "Switching Protocols"
	case 102:
		return "Processing" // RFC 2518
	case 103:
		return "Early Hints" // RFC 8297

	// 2xx Successful, RFC 9110 §15.3.
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	case 203:
		return "Non-Authoritative Information"
	case 204:
		return "No Content"
	case 205:
		return "Reset Content"
	case 206:
		return "Partial Content"
	case 207:
		return "Multi-Status" // RFC 4918
	case 208:
		return "Already Reported" // RFC 5842
	case 226:
		return "IM Used" // RFC 3229

	// 3xx Redirection, RFC 9110 §15.4 (306 is reserved and unused).
	case 300:
		return "Multiple Choices"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 303:
		return "See Other"
	case 304:
		return "Not Modified"
	case 305:
		return "Use Proxy"
	case 307:
		return "Temporary Redirect"
	case 308:
		return "Permanent Redirect"

	// 4xx Client Error, RFC 9110 §15.5 (418 is reserved and unused).
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 402:
		return "Payment Required"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 406:
		return "Not Acceptable"
	case 407:
		return "Proxy Authentication Required"
	case 408:
		return "Request Timeout"
	case 409:
		return "Conflict"
	case 410:
		return "Gone"
	case 411:
		return "Length Required"
	case 412:
		return "Precondition Failed"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Range Not Satisfiable"
	case 417:
		return "Expectation Failed"
	case 421:
		return "Misdirected Request"
	case 422:
		return "Unprocessable Content"
	case 423:
		return "Locked" // RFC 4918
	case 424:
		return "Failed Dependency" // RFC 4918
	case 425:
		return "Too Early" // RFC 8470
	case 426:
		return "Upgrade Required"
	case 428:
		return "Precondition Required" // RFC 6585
	case 429:
		return "Too Many Requests" // RFC 6585
	case 431:
		return "Request Header Fields Too Large" // RFC 6585
	case 451:
		return "Unavailable For Legal Reasons" // RFC 7725

	// 5xx Server Error, RFC 9110 §15.6.
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	case 505:
		return "HTTP Version Not Supported"
	case 506:
		return "Variant Also Negotiates" // RFC 2295
	case 507:
		return "Insufficient Storage" // RFC 4918
	case 508:
		return "Loop Detected" // RFC 5842
	case 510:
		return "Not Extended" // RFC 2774
	case 511:
		return "Network Authentication Required" // RFC 6585
	}
	return ""
}

// ErrorBody returns the body text evhttpd sends with an error status when no
// error handler replaces it (see AppendErrorResponse).
//
// For the statuses esp_http_server's httpd_resp_send_err knows (400, 401, 403,
// 404, 405, 408, 411, 413, 414, 431, 500, 501 and 505, as in ESP-IDF's
// components/esp_http_server/src/httpd_txrx.c of 2025) the body is ESP's
// default message, byte for byte, so clients written against an ESP device
// see the same text. Older ESP-IDF releases used longer wording for some of
// them (404 "This URI doesn't exist", 405 "Request method for this URI is not
// handled by server"); evhttpd follows the current texts. ESP has no message for 417, 426 and 503, which evhttpd also
// sends (Expect, WebSocket version, worker pool full); ErrorBody gives them
// short messages in the same style. Every other registered status gets its
// reason phrase (StatusText), and an unregistered code gets "".
func ErrorBody(code int) string {
	switch code {
	// esp_http_server's texts.
	case 400:
		return "Bad request syntax"
	case 401:
		return "No permission -- see authorization schemes"
	case 403:
		return "Request forbidden -- authorization will not help"
	case 404:
		return "Nothing matches the given URI"
	case 405:
		return "Specified method is invalid for this resource"
	case 408:
		return "Server closed this connection"
	case 411:
		return "Client must specify Content-Length"
	case 413:
		return "Content is too large"
	case 414:
		return "URI is too long"
	case 431:
		return "Header fields are too long"
	case 500:
		return "Server has encountered an unexpected error"
	case 501:
		return "Server does not support this method"
	case 505:
		return "HTTP version not supported by server"

	// evhttpd's additions: ESP never sends these statuses on its own.
	case 417:
		return "Server cannot meet the expectation of this request"
	case 426:
		return "Server requires an upgrade to a supported protocol version"
	case 503:
		return "Server is too busy to handle this request"
	}
	return StatusText(code)
}

// BodyAllowed reports whether a response with this status may carry content.
// 1xx, 204 and 304 responses never do (RFC 9110 §6.4.1, RFC 9112 §6.3 rule 1);
// the server must send neither body bytes nor chunked framing for them.
// Responses to HEAD never carry content either, whatever the status: that is a
// property of the request, which the caller checks.
func BodyAllowed(status int) bool {
	if status >= 100 && status < 200 {
		return false
	}
	return status != 204 && status != 304
}
