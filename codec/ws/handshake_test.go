package ws

import (
	"encoding/base64"
	"testing"
)

func TestAcceptKey(t *testing.T) {
	tests := []struct {
		key, want string
	}{
		// RFC 6455 §1.3.
		{"dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		// RFC 6455 §4.2.2 step 5.4 applies to any key value.
		{"", "Kfh9QIsMVZcl6xEPYxPHzW8SZ8w="},
	}
	for _, tc := range tests {
		if got := string(AcceptKey(nil, []byte(tc.key))); got != tc.want {
			t.Errorf("AcceptKey(%q) = %q; want %q", tc.key, got, tc.want)
		}
	}
	// A long key takes the allocating path and must agree with a short
	// prefix computed independently.
	long := make([]byte, 100)
	for i := range long {
		long[i] = 'a'
	}
	if got := AcceptKey([]byte("x"), long); len(got) != 29 || got[0] != 'x' {
		t.Errorf("AcceptKey(long) = %q; want 28 base64 bytes after the prefix", got)
	}
}

func TestValidKey(t *testing.T) {
	sixteen := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	tests := []struct {
		key  string
		want bool
	}{
		{"dGhlIHNhbXBsZSBub25jZQ==", true},
		{sixteen, true},
		{"", false},
		{"dGhlIHNhbXBsZSBub25jZQ", false},                            // unpadded
		{"dGhlIHNhbXBsZSBub25jZQ=", false},                           // short padding
		{"dGhlIHNhbXBsZSBub25jZR==", false},                          // nonzero padding bits
		{"dGhlIHNhbXBsZSBub25j\nZQ==", false},                        // line break
		{"dGhlIHNhbXBsZSBub25jZQ==\r", false},                        // trailing CR
		{"dGhlIHNhbXBsZSBub25jZ\n==", false},                         // LF inside 24 bytes
		{"dGhl IHNhbXBsZSBub25jZQ=", false},                          // space
		{"dGhlIHNhbXBsZSBub25jZQ!=", false},                          // bad char
		{base64.StdEncoding.EncodeToString(make([]byte, 15)), false}, // 15 bytes
		{base64.StdEncoding.EncodeToString(make([]byte, 17)), false}, // 17 bytes
		{base64.URLEncoding.EncodeToString([]byte{0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xff}), false}, // URL alphabet
	}
	for _, tc := range tests {
		if got := ValidKey([]byte(tc.key)); got != tc.want {
			t.Errorf("ValidKey(%q) = %v; want %v", tc.key, got, tc.want)
		}
	}
}

func TestSelectSubprotocol(t *testing.T) {
	supported := []string{"chat", "superchat", "v2.json"}
	tests := []struct {
		name    string
		offered []string
		want    string
		ok      bool
	}{
		{"empty", []string{""}, "", false},
		{"no field", nil, "", false},
		{"commas only", []string{",,,"}, "", false},
		{"single", []string{"chat"}, "chat", true},
		{"server preference", []string{"superchat, chat"}, "chat", true},
		{"empty elements", []string{"a,,superchat"}, "superchat", true},
		{"whitespace", []string{" \t superchat \t, x"}, "superchat", true},
		{"case sensitive", []string{"Chat"}, "", false},
		{"prefix is not a match", []string{"cha, chatty"}, "", false},
		{"unknown only", []string{"mqtt, wamp"}, "", false},
		{"several fields", []string{"mqtt", "v2.json"}, "v2.json", true},
		{"several fields preference", []string{"v2.json", "chat"}, "chat", true},
		{"malformed element", []string{"chat, a b"}, "", false},
		{"malformed field among several", []string{"chat", "x;y"}, "", false},
		{"quoted is not a token", []string{`"chat"`}, "", false},
		{"non-ASCII", []string{"chat, \xff"}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var fields [][]byte
			for _, f := range tc.offered {
				fields = append(fields, []byte(f))
			}
			got, ok := SelectSubprotocolFields(fields, supported)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("SelectSubprotocolFields(%q) = %q, %v; want %q, %v", tc.offered, got, ok, tc.want, tc.ok)
			}
			if len(fields) == 1 {
				got, ok = SelectSubprotocol(fields[0], supported)
				if got != tc.want || ok != tc.ok {
					t.Fatalf("SelectSubprotocol(%q) = %q, %v; want %q, %v", tc.offered[0], got, ok, tc.want, tc.ok)
				}
			}
		})
	}
	if got, ok := SelectSubprotocol([]byte("chat"), nil); ok || got != "" {
		t.Fatalf("SelectSubprotocol with nothing supported = %q, %v; want \"\", false", got, ok)
	}
	if got, ok := SelectSubprotocol([]byte("chat"), []string{"", "chat"}); !ok || got != "chat" {
		t.Fatalf("SelectSubprotocol with empty supported entry = %q, %v; want chat, true", got, ok)
	}
}

func TestHasToken(t *testing.T) {
	tests := []struct {
		value, token string
		want         bool
	}{
		{"Upgrade", "upgrade", true},
		{"keep-alive, Upgrade", "upgrade", true},
		{"keep-alive,upgrade ", "Upgrade", true},
		{"websocket", "websocket", true},
		{"WebSocket", "websocket", true},
		{"", "upgrade", false},
		{",,,", "upgrade", false},
		{"upgraded", "upgrade", false},
		{"up grade", "upgrade", false},
		{"keep-alive", "upgrade", false},
	}
	for _, tc := range tests {
		if got := HasToken([]byte(tc.value), tc.token); got != tc.want {
			t.Errorf("HasToken(%q, %q) = %v; want %v", tc.value, tc.token, got, tc.want)
		}
	}
}
