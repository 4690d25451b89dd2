package ws

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fakeRequest is a parsed request head for CheckHandshake.
type fakeRequest struct {
	method  string
	minor   int
	cl      int64
	chunked bool
	fields  [][2]string
	frozen  [][2][]byte // fields as bytes, for allocation tests (freeze)
}

// freeze converts the fields once, so HeaderAt stops allocating.
func (r *fakeRequest) freeze() *fakeRequest {
	for _, f := range r.fields {
		r.frozen = append(r.frozen, [2][]byte{[]byte(f[0]), []byte(f[1])})
	}
	return r
}

func (r *fakeRequest) Method() []byte {
	if r.method == "GET" {
		return methodGET // no allocation for the allocation test
	}
	return []byte(r.method)
}

var methodGET = []byte("GET")

func (r *fakeRequest) Minor() int           { return r.minor }
func (r *fakeRequest) ContentLength() int64 { return r.cl }
func (r *fakeRequest) Chunked() bool        { return r.chunked }
func (r *fakeRequest) NumHeaders() int      { return len(r.fields) }
func (r *fakeRequest) HeaderAt(i int) (name, value []byte) {
	if r.frozen != nil {
		return r.frozen[i][0], r.frozen[i][1]
	}
	return []byte(r.fields[i][0]), []byte(r.fields[i][1])
}

const sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

// handshake builds a valid handshake request, then applies edits: a field
// "Name: value" is added, "-Name" removes every field of that name.
func handshake(edits ...string) *fakeRequest {
	r := &fakeRequest{method: "GET", minor: 1, cl: -1, fields: [][2]string{
		{"Host", "example.com"}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"},
		{"Sec-WebSocket-Key", sampleKey}, {"Sec-WebSocket-Version", "13"},
	}}
	for _, e := range edits {
		if name, ok := strings.CutPrefix(e, "-"); ok {
			var kept [][2]string
			for _, f := range r.fields {
				if !strings.EqualFold(f[0], name) {
					kept = append(kept, f)
				}
			}
			r.fields = kept
			continue
		}
		name, value, _ := strings.Cut(e, ": ")
		r.fields = append(r.fields, [2]string{name, value})
	}
	return r
}

func TestCheckHandshake(t *testing.T) {
	with := func(r *fakeRequest, f func(*fakeRequest)) *fakeRequest { f(r); return r }
	cases := []struct {
		name   string
		req    *fakeRequest
		err    error
		status int
	}{
		{"valid", handshake(), nil, 0},
		{"tokens in lists, any case", handshake("-Upgrade", "-Connection", "upgrade: h2c, WebSocket", "connection: keep-alive, UPGRADE"), nil, 0},
		{"tokens in a second field", handshake("-Upgrade", "Upgrade: h2c", "Upgrade: websocket"), nil, 0},
		{"POST", with(handshake(), func(r *fakeRequest) { r.method = "POST" }), ErrHandshakeMethod, 400},
		{"lower-case get", with(handshake(), func(r *fakeRequest) { r.method = "get" }), ErrHandshakeMethod, 400},
		{"HTTP/1.0", with(handshake(), func(r *fakeRequest) { r.minor = 0 }), ErrHandshakeHTTPVersion, 400},
		{"no Upgrade", handshake("-Upgrade"), ErrHandshakeUpgrade, 400},
		{"Upgrade without websocket", handshake("-Upgrade", "Upgrade: h2c"), ErrHandshakeUpgrade, 400},
		{"Upgrade with websocket inside a token", handshake("-Upgrade", "Upgrade: websocket2"), ErrHandshakeUpgrade, 400},
		{"no Connection", handshake("-Connection"), ErrHandshakeConnection, 400},
		{"Connection keep-alive only", handshake("-Connection", "Connection: keep-alive"), ErrHandshakeConnection, 400},
		{"Content-Length body", with(handshake(), func(r *fakeRequest) { r.cl = 5 }), ErrHandshakeBody, 400},
		{"empty Content-Length body is fine", with(handshake(), func(r *fakeRequest) { r.cl = 0 }), nil, 0},
		{"chunked body", with(handshake(), func(r *fakeRequest) { r.chunked = true }), ErrHandshakeBody, 400},
		{"no version", handshake("-Sec-WebSocket-Version"), ErrHandshakeVersion, 426},
		{"version 8", handshake("-Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"), ErrHandshakeVersion, 426},
		{"versions 13 and 8", handshake("Sec-WebSocket-Version: 8"), ErrHandshakeVersion, 426},
		{"version before key", handshake("-Sec-WebSocket-Version", "-Sec-WebSocket-Key"), ErrHandshakeVersion, 426},
		{"no key", handshake("-Sec-WebSocket-Key"), ErrHandshakeNoKey, 400},
		{"two keys", handshake("Sec-WebSocket-Key: " + sampleKey), ErrHandshakeKeys, 400},
		{"short key", handshake("-Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAA"), ErrHandshakeBadKey, 400},
		{"key of 17 bytes", handshake("-Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA="), ErrHandshakeBadKey, 400},
		{"method checked first", with(handshake("-Sec-WebSocket-Key", "-Sec-WebSocket-Version"), func(r *fakeRequest) { r.method = "PUT" }), ErrHandshakeMethod, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h Handshake
			err := CheckHandshake(tc.req, &h)
			if err != tc.err {
				t.Fatalf("CheckHandshake = %v; want %v", err, tc.err)
			}
			status, ok := HandshakeStatus(err)
			if ok != (err != nil) || status != tc.status {
				t.Fatalf("HandshakeStatus(%v) = %d, %v; want %d", err, status, ok, tc.status)
			}
			if err == nil && string(h.Key) != sampleKey {
				t.Fatalf("Key = %q; want %q", h.Key, sampleKey)
			}
		})
	}
}

func TestCheckHandshakeOffers(t *testing.T) {
	req := handshake("Sec-WebSocket-Protocol: chat, superchat", "Origin: http://example.com",
		"sec-websocket-extensions: permessage-deflate; client_max_window_bits", "Sec-WebSocket-Protocol: v2", "Origin: http://second.example")
	for i := 0; i < MaxOfferFields+2; i++ {
		req.fields = append(req.fields, [2]string{"Sec-WebSocket-Extensions", fmt.Sprint("x", i)})
	}
	var h Handshake
	if err := CheckHandshake(req, &h); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%q", h.Protocols()); got != `["chat, superchat" "v2"]` {
		t.Errorf("Protocols() = %s", got)
	}
	if ex := h.Extensions(); len(ex) != MaxOfferFields || string(ex[0]) != "permessage-deflate; client_max_window_bits" || string(ex[MaxOfferFields-1]) != "x6" {
		t.Errorf("Extensions() = %q; want the first %d fields", ex, MaxOfferFields)
	}
	if string(h.Origin) != "http://example.com" {
		t.Errorf("Origin = %q; want the first field", h.Origin)
	}
	// Checking again starts from nothing.
	if err := CheckHandshake(handshake(), &h); err != nil || len(h.Protocols()) != 0 || h.Origin != nil {
		t.Errorf("second CheckHandshake kept state: %v %q %q", err, h.Protocols(), h.Origin)
	}
}

func TestCheckOrigin(t *testing.T) {
	cases := []struct {
		origin, host string
		absent       bool
		ok           bool
	}{
		{absent: true, host: "example.com", ok: true},
		{origin: "http://example.com", host: "example.com", ok: true},
		{origin: "https://Example.COM:8443", host: "example.com:8443", ok: true},
		{origin: "http://example.com/path", host: "example.com", ok: true},
		{origin: "http://example.com", host: "example.com:80"},
		{origin: "http://evil.example", host: "example.com"},
		{origin: "http://example.com.evil", host: "example.com"},
		{origin: "null", host: "example.com"},
		{origin: "", host: "example.com"},
		{origin: "example.com", host: "example.com"},
		{origin: "http://", host: ""},
	}
	for _, tc := range cases {
		var o []byte
		if !tc.absent {
			o = []byte(tc.origin)
		}
		err := CheckOrigin(o, []byte(tc.host))
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrHandshakeOrigin) {
			t.Errorf("CheckOrigin(%q, %q) = %v; want ok %v", o, tc.host, err, tc.ok)
		}
		if status, _ := HandshakeStatus(err); err != nil && status != 403 {
			t.Errorf("status %d; want 403", status)
		}
	}
}

func TestAppendAccept(t *testing.T) {
	cases := []struct {
		proto      string
		ext, extra string
		want       string
	}{
		{"", "", "", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"},
		{"chat", "permessage-deflate; server_no_context_takeover", "X-A: 1\r\nX-B: 2\r\n",
			"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n" +
				"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\nX-A: 1\r\nX-B: 2\r\n\r\n"},
	}
	for _, tc := range cases {
		got := string(AppendAccept([]byte("prefix|"), []byte(sampleKey), tc.proto, []byte(tc.ext), []byte(tc.extra)))
		if got != "prefix|"+tc.want {
			t.Errorf("AppendAccept(%q, %q, %q) =\n%q\nwant\n%q", tc.proto, tc.ext, tc.extra, got, "prefix|"+tc.want)
		}
	}
}
