package ws

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

func TestValidCloseCode(t *testing.T) {
	for c := 0; c <= 0xFFFF; c++ {
		want := (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999)
		if got := ValidCloseCode(StatusCode(c)); got != want {
			t.Fatalf("ValidCloseCode(%d) = %v; want %v", c, got, want)
		}
		var p [2]byte
		binary.BigEndian.PutUint16(p[:], uint16(c))
		code, reason, err := ParseClosePayload(p[:])
		if want {
			if err != nil || code != StatusCode(c) || len(reason) != 0 {
				t.Fatalf("ParseClosePayload(%q) = %d, %q, %v; want %d, \"\", nil", p, code, reason, err, c)
			}
		} else if err != ErrInvalidCloseCode {
			t.Fatalf("ParseClosePayload(%q) = %d, %q, %v; want %v", p, code, reason, err, ErrInvalidCloseCode)
		}
	}
}

func TestParseClosePayload(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		code   StatusCode
		reason string
		err    error
	}{
		{"empty", nil, StatusNoStatusRcvd, "", nil},
		{"one byte", []byte{0x03}, 0, "", ErrBadClosePayload},
		{"normal", []byte("\x03\xe8"), 1000, "", nil},
		{"with reason", []byte("\x03\xe8bye"), 1000, "bye", nil},
		{"utf8 reason", []byte("\x0f\xa0κόσμε"), 4000, "κόσμε", nil},
		{"bad utf8 reason", []byte("\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"), 1000, "", ErrCloseReasonUTF8},
		{"truncated utf8 reason", []byte("\x03\xe8\xe2\x82"), 1000, "", ErrCloseReasonUTF8},
		{"code 0", []byte{0, 0}, 0, "", ErrInvalidCloseCode},
		{"code 999", []byte("\x03\xe7"), 0, "", ErrInvalidCloseCode},
		{"code 1004", []byte("\x03\xec"), 0, "", ErrInvalidCloseCode},
		{"code 1005", []byte("\x03\xed"), 0, "", ErrInvalidCloseCode},
		{"code 1006", []byte("\x03\xee"), 0, "", ErrInvalidCloseCode},
		{"code 1015", []byte("\x03\xf7"), 0, "", ErrInvalidCloseCode},
		{"code 1016", []byte("\x03\xf8"), 0, "", ErrInvalidCloseCode},
		{"code 1100", []byte("\x04\x4c"), 0, "", ErrInvalidCloseCode},
		{"code 2000", []byte("\x07\xd0"), 0, "", ErrInvalidCloseCode},
		{"code 2999", []byte("\x0b\xb7"), 0, "", ErrInvalidCloseCode},
		{"code 5000", []byte("\x13\x88"), 0, "", ErrInvalidCloseCode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, err := ParseClosePayload(tc.in)
			if err != tc.err {
				t.Fatalf("ParseClosePayload(%q) = %v, %q, %v; want error %v", tc.in, code, reason, err, tc.err)
			}
			if err == nil && (code != tc.code || string(reason) != tc.reason) {
				t.Fatalf("ParseClosePayload(%q) = %v, %q, nil; want %v, %q", tc.in, code, reason, tc.code, tc.reason)
			}
		})
	}
}

func TestAppendClose(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes, 2-byte code points
	tests := []struct {
		name   string
		code   StatusCode
		reason string
		want   []byte
	}{
		{"no code", 0, "ignored", []byte{0x88, 0x00}},
		{"normal", StatusNormalClosure, "", []byte{0x88, 0x02, 0x03, 0xe8}},
		{"reason", StatusGoingAway, "bye", []byte("\x88\x05\x03\xe9bye")},
		{"123 ascii fits", 4000, strings.Repeat("a", 123), append([]byte("\x88\x7d\x0f\xa0"), strings.Repeat("a", 123)...)},
		{"124 ascii cut", 4000, strings.Repeat("a", 124), append([]byte("\x88\x7d\x0f\xa0"), strings.Repeat("a", 123)...)},
		{"2-byte cut on boundary", 1000, long, append([]byte("\x88\x7c\x03\xe8"), long[:122]...)},
		{"4-byte cut on boundary", 1000, "a" + strings.Repeat("😀", 40), append([]byte("\x88\x7b\x03\xe8a"), strings.Repeat("😀", 30)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendClose(nil, tc.code, tc.reason)
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("AppendClose(%d, %q) = %q; want %q", tc.code, tc.reason, got, tc.want)
			}
			var p FrameParser
			n, h, err := p.ParseHeader(got)
			if err != nil || h.Op != OpClose || int(h.Length) != len(got)-n || h.Length > MaxControlPayload {
				t.Fatalf("ParseHeader(AppendClose) = %+v, %v", h, err)
			}
			code, reason, err := ParseClosePayload(got[n:])
			wantCode := tc.code
			if wantCode == 0 {
				wantCode = StatusNoStatusRcvd
			}
			if err != nil || code != wantCode || !strings.HasPrefix(tc.reason, string(reason)) {
				t.Fatalf("ParseClosePayload(AppendClose) = %v, %q, %v", code, reason, err)
			}
		})
	}
}

func TestStatusCodeString(t *testing.T) {
	tests := []struct {
		c    StatusCode
		want string
	}{
		{StatusNormalClosure, "NormalClosure"},
		{StatusMessageTooBig, "MessageTooBig"},
		{StatusTLSHandshake, "TLSHandshake"},
		{3000, "Application(3000)"},
		{4999, "Private(4999)"},
		{0, "Status(0)"},
		{1016, "Status(1016)"},
	}
	for _, tc := range tests {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("StatusCode(%d).String() = %q; want %q", uint16(tc.c), got, tc.want)
		}
	}
}

func TestCloseCode(t *testing.T) {
	tests := []struct {
		err  error
		code StatusCode
		ok   bool
	}{
		{ErrInvalidUTF8, StatusInvalidFramePayloadData, true},
		{ErrMessageTooBig, StatusMessageTooBig, true},
		{fmt.Errorf("reading: %w", ErrUnmasked), StatusProtocolError, true},
		{ErrNeedMore, 0, false},
		{nil, 0, false},
	}
	for _, tc := range tests {
		if code, ok := CloseCode(tc.err); code != tc.code || ok != tc.ok {
			t.Errorf("CloseCode(%v) = %v, %v; want %v, %v", tc.err, code, ok, tc.code, tc.ok)
		}
	}
}
