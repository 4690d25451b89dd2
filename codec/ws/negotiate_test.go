package ws

import "testing"

func TestNegotiateDeflate(t *testing.T) {
	full := DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
	tests := []struct {
		name   string
		cfg    DeflateConfig
		offers []string
		ok     bool
		want   DeflateParams
		resp   string
	}{
		{"none", DeflateConfig{}, nil, false, DeflateParams{}, ""},
		{"empty", DeflateConfig{}, []string{""}, false, DeflateParams{}, ""},
		{"commas", DeflateConfig{}, []string{",,,"}, false, DeflateParams{}, ""},
		{"other extension", DeflateConfig{}, []string{"x-webkit-deflate-frame"}, false, DeflateParams{}, ""},
		{"plain", DeflateConfig{}, []string{"permessage-deflate"}, true, full, "permessage-deflate"},
		{"case-insensitive name", DeflateConfig{}, []string{"PerMessage-Deflate"}, true, full, "permessage-deflate"},
		{"browser offer", DeflateConfig{}, []string{"permessage-deflate; client_max_window_bits"}, true, full, "permessage-deflate"},
		{"browser offer, small client window", DeflateConfig{ClientMaxWindowBits: 10}, []string{"permessage-deflate; client_max_window_bits"}, true,
			DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits=10"},
		{"client bits not offered: cannot ask", DeflateConfig{ClientMaxWindowBits: 10}, []string{"permessage-deflate"}, true, full, "permessage-deflate"},
		{"client bits hint", DeflateConfig{}, []string{"permessage-deflate; client_max_window_bits=12"}, true,
			DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 12}, "permessage-deflate; client_max_window_bits=12"},
		{"client bits min", DeflateConfig{ClientMaxWindowBits: 9}, []string{"permessage-deflate; client_max_window_bits=12"}, true,
			DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 9}, "permessage-deflate; client_max_window_bits=9"},
		{"no context takeover both", DeflateConfig{}, []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover"}, true,
			DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"config no context takeover", DeflateConfig{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, []string{"permessage-deflate"}, true,
			DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"server window 8", DeflateConfig{}, []string{"permessage-deflate; server_max_window_bits=8"}, true,
			DeflateParams{ServerMaxWindowBits: 8, ClientMaxWindowBits: 15}, "permessage-deflate; server_max_window_bits=8"},
		{"server window 15 echoed", DeflateConfig{}, []string{"permessage-deflate; server_max_window_bits=15"}, true,
			full, "permessage-deflate; server_max_window_bits=15"},
		{"server window config smaller", DeflateConfig{ServerMaxWindowBits: 10}, []string{"permessage-deflate; server_max_window_bits=12"}, true,
			DeflateParams{ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}, "permessage-deflate; server_max_window_bits=10"},
		{"server window unasked", DeflateConfig{ServerMaxWindowBits: 11}, []string{"permessage-deflate"}, true,
			DeflateParams{ServerMaxWindowBits: 11, ClientMaxWindowBits: 15}, "permessage-deflate; server_max_window_bits=11"},
		{"quoted value", DeflateConfig{}, []string{`permessage-deflate; server_max_window_bits="10"`}, true,
			DeflateParams{ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}, "permessage-deflate; server_max_window_bits=10"},
		{"quoted escaped value", DeflateConfig{}, []string{`permessage-deflate; server_max_window_bits="1\0"`}, true,
			DeflateParams{ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}, "permessage-deflate; server_max_window_bits=10"},
		{"whitespace", DeflateConfig{}, []string{" permessage-deflate ;\tserver_max_window_bits = 9 ; client_no_context_takeover "}, true,
			DeflateParams{ClientNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 15},
			"permessage-deflate; client_no_context_takeover; server_max_window_bits=9"},
		{"window 7", DeflateConfig{}, []string{"permessage-deflate; server_max_window_bits=7"}, false, DeflateParams{}, ""},
		{"window 16", DeflateConfig{}, []string{"permessage-deflate; client_max_window_bits=16"}, false, DeflateParams{}, ""},
		{"window x", DeflateConfig{}, []string{"permessage-deflate; server_max_window_bits=x"}, false, DeflateParams{}, ""},
		{"window empty", DeflateConfig{}, []string{"permessage-deflate; server_max_window_bits="}, false, DeflateParams{}, ""},
		{"window empty quoted", DeflateConfig{}, []string{`permessage-deflate; server_max_window_bits=""`}, false, DeflateParams{}, ""},
		{"window leading zero", DeflateConfig{}, []string{"permessage-deflate; server_max_window_bits=09"}, false, DeflateParams{}, ""},
		{"quote inside quoted value", DeflateConfig{}, []string{`permessage-deflate; server_max_window_bits="1"0"`}, false, DeflateParams{}, ""},
		{"quoted value too long", DeflateConfig{}, []string{`permessage-deflate; server_max_window_bits="000010"`}, false, DeflateParams{}, ""},
		{"quoted non-token", DeflateConfig{}, []string{`permessage-deflate; server_max_window_bits="1 0"`}, false, DeflateParams{}, ""},
		{"unquoted non-token", DeflateConfig{}, []string{"permessage-deflate; server_max_window_bits=1 0"}, false, DeflateParams{}, ""},
		{"escaped closing quote", DeflateConfig{}, []string{`permessage-deflate; server_max_window_bits="10\"`}, false, DeflateParams{}, ""},
		{"bad param name", DeflateConfig{}, []string{"permessage-deflate; =10"}, false, DeflateParams{}, ""},
		{"window sign", DeflateConfig{}, []string{"permessage-deflate; server_max_window_bits=+9"}, false, DeflateParams{}, ""},
		{"server window without value", DeflateConfig{}, []string{"permessage-deflate; server_max_window_bits"}, false, DeflateParams{}, ""},
		{"no_context_takeover with value", DeflateConfig{}, []string{"permessage-deflate; server_no_context_takeover=1"}, false, DeflateParams{}, ""},
		{"duplicate", DeflateConfig{}, []string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}, false, DeflateParams{}, ""},
		{"duplicate bits", DeflateConfig{}, []string{"permessage-deflate; client_max_window_bits; client_max_window_bits=10"}, false, DeflateParams{}, ""},
		{"unknown", DeflateConfig{}, []string{"permessage-deflate; mystery"}, false, DeflateParams{}, ""},
		{"trailing semicolon", DeflateConfig{}, []string{"permessage-deflate;"}, false, DeflateParams{}, ""},
		{"unterminated quote", DeflateConfig{}, []string{`permessage-deflate; server_max_window_bits="10, permessage-deflate`}, false, DeflateParams{}, ""},
		{"first bad, second taken", DeflateConfig{}, []string{"permessage-deflate; server_max_window_bits=16, permessage-deflate; client_max_window_bits=11"}, true,
			DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 11}, "permessage-deflate; client_max_window_bits=11"},
		{"first unknown, second taken", DeflateConfig{}, []string{"permessage-deflate; x=1", "permessage-deflate; server_no_context_takeover"}, true,
			DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, "permessage-deflate; server_no_context_takeover"},
		{"quoted comma does not split", DeflateConfig{}, []string{`permessage-deflate; x=",", permessage-deflate`}, true, full, "permessage-deflate"},
		{"other extension first", DeflateConfig{}, []string{"foo; bar=1, permessage-deflate; server_max_window_bits=14"}, true,
			DeflateParams{ServerMaxWindowBits: 14, ClientMaxWindowBits: 15}, "permessage-deflate; server_max_window_bits=14"},
		{"several acceptable: first wins", DeflateConfig{}, []string{"permessage-deflate; server_max_window_bits=10, permessage-deflate"}, true,
			DeflateParams{ServerMaxWindowBits: 10, ClientMaxWindowBits: 15}, "permessage-deflate; server_max_window_bits=10"},
		{"invalid config", DeflateConfig{ServerMaxWindowBits: 7}, []string{"permessage-deflate"}, false, DeflateParams{}, ""},
		{"invalid level", DeflateConfig{Level: 10}, []string{"permessage-deflate"}, false, DeflateParams{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var fields [][]byte
			for _, f := range tc.offers {
				fields = append(fields, []byte(f))
			}
			p, resp, ok := NegotiateDeflate(fields, tc.cfg)
			if ok != tc.ok || p != tc.want || string(resp) != tc.resp {
				t.Fatalf("NegotiateDeflate(%q) = %+v, %q, %v; want %+v, %q, %v", tc.offers, p, resp, ok, tc.want, tc.resp, tc.ok)
			}
			if !ok {
				return
			}
			back, ok := ParseDeflateResponse(resp)
			if !ok || back != p {
				t.Fatalf("ParseDeflateResponse(%q) = %+v, %v; want %+v, true", resp, back, ok, p)
			}
		})
	}
}

func TestParseDeflateResponse(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want DeflateParams
	}{
		{"permessage-deflate", true, DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}},
		{"permessage-deflate; client_max_window_bits=9; server_no_context_takeover", true,
			DeflateParams{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 9}},
		{"", false, DeflateParams{}},
		{"permessage-deflate; client_max_window_bits", false, DeflateParams{}},
		{"permessage-deflate, permessage-deflate", false, DeflateParams{}},
		{"foo", false, DeflateParams{}},
		{"permessage-deflate; foo", false, DeflateParams{}},
		{`permessage-deflate; server_max_window_bits="9`, false, DeflateParams{}},
	}
	for _, tc := range tests {
		got, ok := ParseDeflateResponse([]byte(tc.in))
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseDeflateResponse(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDeflateConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  DeflateConfig
		want error
	}{
		{DeflateConfig{}, nil},
		{DeflateConfig{ServerMaxWindowBits: 8, ClientMaxWindowBits: 15, Level: 9}, nil},
		{DeflateConfig{Level: -2}, nil},
		{DeflateConfig{ServerMaxWindowBits: 16}, ErrDeflateWindowBits},
		{DeflateConfig{ClientMaxWindowBits: 1}, ErrDeflateWindowBits},
		{DeflateConfig{Level: -3}, ErrDeflateLevel},
	}
	for _, tc := range tests {
		if got := tc.cfg.Validate(); got != tc.want {
			t.Errorf("%+v.Validate() = %v; want %v", tc.cfg, got, tc.want)
		}
	}
	if got := (DeflateConfig{}).EffectiveLevel(); got != DefaultDeflateLevel {
		t.Errorf("EffectiveLevel() = %d; want %d", got, DefaultDeflateLevel)
	}
	if got := (DeflateConfig{Level: 9}).EffectiveLevel(); got != 9 {
		t.Errorf("EffectiveLevel() = %d; want 9", got)
	}
}
