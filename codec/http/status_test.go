package http

import (
	nethttp "net/http"
	"testing"
)

func TestStatusText(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		{100, "Continue"},
		{101, "Switching Protocols"},
		{103, "Early Hints"},
		{200, "OK"},
		{201, "Created"},
		{204, "No Content"},
		{206, "Partial Content"},
		{301, "Moved Permanently"},
		{304, "Not Modified"},
		{308, "Permanent Redirect"},
		{400, "Bad Request"},
		{404, "Not Found"},
		{405, "Method Not Allowed"},
		{408, "Request Timeout"},
		{413, "Content Too Large"},
		{414, "URI Too Long"},
		{416, "Range Not Satisfiable"},
		{417, "Expectation Failed"},
		{422, "Unprocessable Content"},
		{426, "Upgrade Required"},
		{431, "Request Header Fields Too Large"},
		{500, "Internal Server Error"},
		{501, "Not Implemented"},
		{503, "Service Unavailable"},
		{505, "HTTP Version Not Supported"},
		{511, "Network Authentication Required"},
		// Unregistered or reserved codes.
		{0, ""},
		{-200, ""},
		{99, ""},
		{199, ""},
		{306, ""},
		{418, ""},
		{600, ""},
		{999, ""},
		{1000, ""},
	}
	for _, tt := range tests {
		t.Run(nethttp.StatusText(tt.code), func(t *testing.T) {
			if got := StatusText(tt.code); got != tt.want {
				t.Errorf("StatusText(%d) = %q; want %q", tt.code, got, tt.want)
			}
		})
	}
}

// TestStatusTextAgainstNetHTTP cross-checks every code against net/http's
// table. The two differ only where net/http keeps the pre-RFC 9110 phrase or
// lists a code RFC 9110 reserves.
func TestStatusTextAgainstNetHTTP(t *testing.T) {
	differs := map[int]bool{
		413: true, // "Request Entity Too Large" in net/http
		414: true, // "Request URI Too Long"
		416: true, // "Requested Range Not Satisfiable"
		418: true, // "I'm a teapot"; RFC 9110 §15.5.19 marks 418 unused
		422: true, // "Unprocessable Entity"
	}
	for code := -1; code <= 1000; code++ {
		got, std := StatusText(code), nethttp.StatusText(code)
		if got != "" {
			if code < 100 || code > 599 {
				t.Errorf("StatusText(%d) = %q; want \"\" outside 100..599", code, got)
			}
			if !rspValidReason(got) {
				t.Errorf("StatusText(%d) = %q is not a valid reason-phrase", code, got)
			}
		}
		if got != std && !differs[code] {
			t.Errorf("StatusText(%d) = %q; want %q (net/http)", code, got, std)
		}
	}
}

func TestErrorBody(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		// esp_http_server's httpd_resp_send_err texts.
		{400, "Bad request syntax"},
		{401, "No permission -- see authorization schemes"},
		{403, "Request forbidden -- authorization will not help"},
		{404, "Nothing matches the given URI"},
		{405, "Specified method is invalid for this resource"},
		{408, "Server closed this connection"},
		{411, "Client must specify Content-Length"},
		{413, "Content is too large"},
		{414, "URI is too long"},
		{431, "Header fields are too long"},
		{500, "Server has encountered an unexpected error"},
		{501, "Server does not support this method"},
		{505, "HTTP version not supported by server"},
		// evhttpd's additions.
		{417, "Server cannot meet the expectation of this request"},
		{426, "Server requires an upgrade to a supported protocol version"},
		{503, "Server is too busy to handle this request"},
		// Other registered codes fall back to the reason phrase.
		{409, "Conflict"},
		{429, "Too Many Requests"},
		{502, "Bad Gateway"},
		{200, "OK"},
		// Unregistered codes.
		{0, ""},
		{418, ""},
		{599, ""},
	}
	for _, tt := range tests {
		t.Run(StatusText(tt.code), func(t *testing.T) {
			if got := ErrorBody(tt.code); got != tt.want {
				t.Errorf("ErrorBody(%d) = %q; want %q", tt.code, got, tt.want)
			}
		})
	}
}

func TestBodyAllowed(t *testing.T) {
	tests := []struct {
		code int
		want bool
	}{
		{100, false},
		{101, false},
		{103, false},
		{199, false},
		{200, true},
		{201, true},
		{204, false},
		{205, true},
		{206, true},
		{301, true},
		{304, false},
		{400, true},
		{404, true},
		{500, true},
		{503, true},
	}
	for _, tt := range tests {
		t.Run(StatusText(tt.code), func(t *testing.T) {
			if got := BodyAllowed(tt.code); got != tt.want {
				t.Errorf("BodyAllowed(%d) = %v; want %v", tt.code, got, tt.want)
			}
		})
	}
}
