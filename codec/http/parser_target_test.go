package http

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// Valid and invalid Host field values (RFC 9112 §3.2, RFC 9110 §7.2, RFC
// 3986 §3.2.2). Each is also the authority of an absolute-form target in
// targetHeadCases, so both go through the same rule.
var (
	validHosts = []string{
		"a",
		"example.com",
		"EXAMPLE.Com",
		"example.com.", // trailing dot: a fully qualified name
		"localhost:8080",
		"xn--bcher-kva.example",
		"a-b_c~d.e",
		"ex%41mple.com", // pct-encoded
		"%7e%7E",
		"!$&'()*+;=", // sub-delims but ','
		"127.0.0.1",
		"127.0.0.1:80",
		"1.2.3.999", // not an IPv4address, but a reg-name
		"a..b",
		"h:",      // empty port (RFC 3986 §3.2.3)
		"h:0",     // port 0: digits are all the grammar asks
		"h:65535", // the largest port
		"h:00080", // five digits with leading zeros
		"[::1]",
		"[::1]:8080",
		"[::]",
		"[::1]:",
		"[2001:db8::1]:443",
		"[2001:DB8:0:0:8:800:200C:417A]",
		"[1:2:3:4:5:6:7:8]",
		"[1::]",
		"[1:2:3:4:5:6:7::]",
		"[::2:3:4:5:6:7:8]",
		"[::ffff:192.0.2.1]",
		"[::ffff:192.0.2.1]:80",
		"[1:2:3:4:5:6:1.2.3.4]",
		"[::1.2.3.4]",
		"[v1.x]",
		"[V1F.a:b]",
		"[v7.!$&'()*+;=:-._~]",
	}
	invalidHosts = []string{
		"a, b", // issue 10: a comma-joined pair of Host fields
		"a,b",
		",",
		"a,",
		",a",
		"a b/c", // issue 10
		"a b",
		"a\tb",
		"a/b",
		"a/",
		"a?b",
		"a#b",
		"a@b",
		"user@host:80",
		"a\\b",
		"a\"b",
		"a<b",
		"a>b",
		"a[b",
		"a]b",
		"a{b",
		"a|b",
		"a^b",
		"a`b",
		"caf\xc3\xa9",
		"a\x80",
		"%",
		"%4",
		"%zz",
		"a%2",
		"a%g0",
		":80", // empty host
		":",
		"a:b",
		"a:80:90",
		"a:-1",
		"a:+80",
		"a:8 0",
		"a:65536",
		"a:99999",
		"a:000080", // more than 5 digits
		"a:123456",
		"a:0x50",
		"::1",
		"[::1",
		"::1]",
		"[::1]x",
		"[::1]:x",
		"[::1]:65536",
		"[::1]]",
		"[[::1]]",
		"[]",
		"[:]",
		"[:1]",
		"[1:]",
		"[::1::]",
		"[1:::2]",
		"[1:2:3:4:5:6:7]",
		"[1:2:3:4:5:6:7:8:9]",
		"[1:2:3:4:5:6:7:8::]",
		"[::1:2:3:4:5:6:7:8]",
		"[12345::]",
		"[::g]",
		"[fe80::1%25eth0]", // zone identifiers (RFC 6874) are not accepted
		"[fe80::1%eth0]",
		"[1.2.3.4]",
		"[::1.2.3]",
		"[::1.2.3.4.5]",
		"[::1.2.3.256]",
		"[::01.2.3.4]",
		"[::1.2.3.4:1]",
		"[1:2:3:4:5:6:7:1.2.3.4]",
		"[v1]",
		"[v.x]",
		"[vz.x]",
		"[v1.]",
		"[v1.a,b]",
		"[v1.a b]",
		"[v1.a/b]",
		"[example.com]",
	}
)

// hostHeadCases checks the Host rule on every value above, and the field's
// other rules (RFC 9112 §3.2).
func hostHeadCases() []headCase {
	var cs []headCase
	for _, h := range validHosts {
		cs = append(cs, headCase{
			name: fmt.Sprintf("Host ok %q", h),
			in:   "GET / HTTP/1.1\r\nHost: " + h + "\r\n\r\n",
			want: []string{"host=" + h, "ehost=" + h, "form=origin-form", "authority=<nil>"},
		})
	}
	for _, h := range invalidHosts {
		cs = append(cs, headCase{
			name: fmt.Sprintf("Host bad %q", h),
			in:   "GET / HTTP/1.1\r\nHost: " + h + "\r\n\r\n",
			err:  ErrBadHost,
		})
	}
	return append(cs, []headCase{
		{name: "Host empty ehost", in: "GET / HTTP/1.1\r\nHost: \r\n\r\n", want: []string{"host=", "ehost="}},
		{name: "Host OWS trimmed", in: "GET / HTTP/1.1\r\nHost: \t [::1]:80 \t\r\n\r\n", want: []string{"host=[::1]:80"}},
		{name: "Host bad 1.0", in: get10("Host: a, b"), err: ErrBadHost},
		{name: "Host bad after fields", in: get10("X: 1", "Host: a b", "Y: 2"), err: ErrBadHost},
		{name: "Host bad then second Host", in: "GET / HTTP/1.1\r\nHost: a/b\r\nHost: c\r\n\r\n", err: ErrBadHost},
		{name: "Host good then bad second Host", in: "GET / HTTP/1.1\r\nHost: a\r\nHost: a,b\r\n\r\n", err: ErrDuplicateHost},
		{name: "Host DEL", in: "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", err: ErrBadHeaderValue},
		{name: "Host missing 1.0", in: "GET / HTTP/1.0\r\n\r\n", want: []string{"host=<nil>", "ehost=<nil>", "form=origin-form"}},
		{name: "Host bad with absolute target", in: "GET http://a/ HTTP/1.1\r\nHost: a, b\r\n\r\n", err: ErrBadHost},
		{name: "Host missing with absolute target", in: "GET http://a/ HTTP/1.1\r\nX: y\r\n\r\n", err: ErrMissingHost},
		{name: "Host two with absolute target", in: "GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", err: ErrDuplicateHost},
	}...)
}

// targetMethods are the methods every form is tried with: RFC 9110's, PATCH,
// an extension method and a lower-case lookalike of CONNECT.
var targetMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "M-SEARCH", "connect", "X"}

// targetHeadCases checks the request-target forms (RFC 9112 §3.2) with
// every method in targetMethods, and the absolute-form rules.
func targetHeadCases() []headCase {
	var cs []headCase
	for _, m := range targetMethods {
		connect, options := m == "CONNECT", m == "OPTIONS"
		forbidden := func(ok bool) error {
			if ok {
				return nil
			}
			return ErrTargetForm
		}
		req := func(target string) string { return m + " " + target + " HTTP/1.1\r\nHost: other\r\n\r\n" }
		cs = append(cs, []headCase{
			{name: m + " origin-form", in: req("/p/q?x=1"), err: forbidden(!connect),
				want: []string{"form=origin-form", "path=/p/q", "query=x=1", "authority=<nil>", "ehost=other", "host=other"}},
			{name: m + " absolute-form", in: req("http://h.example:8080/p/q?x=1"), err: forbidden(!connect),
				want: []string{"method=" + m, "form=absolute-form", "target=http://h.example:8080/p/q?x=1", "path=/p/q", "query=x=1", "authority=h.example:8080", "ehost=h.example:8080", "host=other"}},
			{name: m + " absolute-form https no path", in: req("https://h.example"), err: forbidden(!connect),
				want: []string{"form=absolute-form", "target=https://h.example", "path=/", "query=<nil>", "authority=h.example", "ehost=h.example"}},
			{name: m + " absolute-form no path with query", in: req("http://[::1]:80?x"), err: forbidden(!connect),
				want: []string{"form=absolute-form", "path=/", "query=x", "authority=[::1]:80", "ehost=[::1]:80"}},
			{name: m + " authority-form", in: req("h.example:443"), err: forbidden(connect),
				want: []string{"form=authority-form", "target=h.example:443", "path=h.example:443", "query=<nil>", "authority=h.example:443", "ehost=h.example:443", "host=other"}},
			{name: m + " asterisk-form", in: req("*"), err: forbidden(options),
				want: []string{"form=asterisk-form", "target=*", "path=*", "query=<nil>", "authority=<nil>", "ehost=other"}},
		}...)
	}
	for i := range cs {
		if cs[i].err != nil {
			cs[i].want = nil // the items describe the accepted case
		}
	}
	for _, h := range validHosts {
		cs = append(cs, headCase{
			name: fmt.Sprintf("absolute-form authority ok %q", h),
			in:   "GET http://" + h + "/p HTTP/1.1\r\nHost: a\r\n\r\n",
			want: []string{"form=absolute-form", "path=/p", "authority=" + h, "ehost=" + h, "host=a"},
		})
		if !hasPort(h) {
			continue // not an authority-form
		}
		cs = append(cs, headCase{
			name: fmt.Sprintf("CONNECT ok %q", h),
			in:   "CONNECT " + h + " HTTP/1.1\r\nHost: a\r\n\r\n",
			want: []string{"form=authority-form", "authority=" + h, "ehost=" + h},
		})
	}
	for _, h := range invalidHosts {
		if !isTargetText(h) {
			continue // the request line fails first
		}
		want := ErrBadTarget
		if strings.Contains(h, "@") {
			want = ErrTargetUserinfo
		}
		if i := strings.IndexAny(h, "/?#"); i >= 0 && validHostPort([]byte(h[:i]), false) {
			continue // a valid authority followed by a path or query
		}
		cs = append(cs, headCase{
			name: fmt.Sprintf("absolute-form authority bad %q", h),
			in:   "GET http://" + h + "/p HTTP/1.1\r\nHost: a\r\n\r\n",
			err:  want,
		})
		cs = append(cs, headCase{
			name: fmt.Sprintf("CONNECT bad %q", h),
			in:   "CONNECT " + h + " HTTP/1.1\r\nHost: a\r\n\r\n",
			err:  ErrBadTarget,
		})
	}
	return append(cs, []headCase{
		// absolute-form (RFC 9112 §3.2.2, RFC 9110 §4.2).
		{name: "absolute HTTP upper-case", in: "GET HTTP://H.EXAMPLE/P HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"form=absolute-form", "path=/P", "authority=H.EXAMPLE"}},
		{name: "absolute HtTpS mixed case", in: "GET HtTpS://h/ HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"form=absolute-form", "path=/", "authority=h"}},
		{name: "absolute empty Host field", in: "GET http://h/p HTTP/1.1\r\nHost:\r\n\r\n", want: []string{"host=", "ehost=h"}},
		{name: "absolute HTTP/1.0 without Host", in: "GET http://h:81/p?q HTTP/1.0\r\n\r\n", want: []string{"host=<nil>", "ehost=h:81", "path=/p", "query=q"}},
		{name: "absolute fragment", in: "GET http://h/p#f?x HTTP/1.1\r\nHost: h\r\n\r\n", want: []string{"path=/p", "query=<nil>", "authority=h"}},
		{name: "absolute no path fragment", in: "GET http://h#f HTTP/1.1\r\nHost: h\r\n\r\n", want: []string{"path=/", "query=<nil>", "authority=h"}},
		{name: "absolute empty query", in: "GET http://h/? HTTP/1.1\r\nHost: h\r\n\r\n", want: []string{"path=/", "query="}},
		{name: "absolute at in path", in: "GET http://h/p@x?u@v HTTP/1.1\r\nHost: h\r\n\r\n", want: []string{"path=/p@x", "query=u@v", "authority=h"}},
		{name: "absolute double slash path", in: "GET http://h//evil.example/ HTTP/1.1\r\nHost: h\r\n\r\n", want: []string{"path=//evil.example/", "authority=h"}},
		{name: "absolute colon in path", in: "GET http://h/a:b HTTP/1.1\r\nHost: h\r\n\r\n", want: []string{"path=/a:b", "authority=h"}},
		{name: "absolute empty port", in: "GET http://h:/p HTTP/1.1\r\nHost: h\r\n\r\n", want: []string{"authority=h:", "ehost=h:"}},
		{name: "absolute POST with body", in: "POST http://h/p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", n: len("POST http://h/p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n"), want: []string{"cl=3", "path=/p"}},
		{name: "absolute OPTIONS no path", in: "OPTIONS http://h:8001 HTTP/1.1\r\nHost: h\r\n\r\n", want: []string{"form=absolute-form", "path=/", "authority=h:8001"}},
		{name: "absolute userinfo", in: "GET http://user@h/ HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetUserinfo},
		{name: "absolute userinfo password", in: "GET http://user:pw@h/ HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetUserinfo},
		{name: "absolute empty userinfo", in: "GET http://@h/ HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetUserinfo},
		{name: "absolute userinfo disguise", in: "GET https://trusted.example@evil.example/ HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetUserinfo},
		{name: "absolute userinfo no path", in: "GET http://u@h HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetUserinfo},
		{name: "absolute empty host", in: "GET http:///p HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "absolute empty authority", in: "GET http:// HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "absolute empty host with query", in: "GET http://?x HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "absolute port only", in: "GET http://:80/ HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "absolute one slash", in: "GET http:/p HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "absolute no slash", in: "GET http:p HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "absolute scheme only", in: "GET http: HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "absolute https scheme only", in: "GET https:/ HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "absolute backslash host", in: "GET http://h\\evil/ HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "absolute comma host", in: "GET http://h,evil/ HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "absolute big port", in: "GET http://h:65536/ HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "absolute httpx scheme", in: "GET httpx://h/ HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetScheme},
		{name: "absolute ftp scheme", in: "GET ftp://h/f HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetScheme},
		{name: "absolute ws scheme", in: "GET ws://h/ws HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetScheme},
		{name: "absolute file scheme", in: "GET file:///etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetScheme},
		{name: "absolute mailto scheme", in: "GET mailto:a@b HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetScheme},
		{name: "absolute urn scheme", in: "GET urn:isbn:0 HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetScheme},
		{name: "absolute http in lookalike scheme", in: "GET http+x://h/ HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetScheme},

		// authority-form (RFC 9112 §3.2.3, RFC 9110 §9.3.6).
		{name: "CONNECT no port", in: "CONNECT h.example HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "CONNECT empty port", in: "CONNECT h.example: HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "CONNECT v6 no port", in: "CONNECT [::1] HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "CONNECT userinfo", in: "CONNECT u@h:443 HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "CONNECT with absolute-form target", in: "CONNECT http://h:443/ HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetForm},
		{name: "CONNECT with absolute-form target no path", in: "CONNECT https://h:443 HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetForm},
		{name: "CONNECT other scheme", in: "CONNECT ftp://h:21 HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetForm},
		{name: "CONNECT path", in: "CONNECT h:443/p HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "CONNECT HTTP/1.0", in: "CONNECT h:443 HTTP/1.0\r\n\r\n", want: []string{"form=authority-form", "host=<nil>", "ehost=h:443"}},
		{name: "CONNECT Host differs", in: "CONNECT h:443 HTTP/1.1\r\nHost: x:1\r\n\r\n", want: []string{"host=x:1", "ehost=h:443"}},
		{name: "GET authority-form localhost", in: "GET localhost:8080 HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetForm},
		{name: "GET authority-form v6", in: "GET [::1]:80 HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetForm},

		// asterisk-form (RFC 9112 §3.2.4).
		{name: "OPTIONS star then more", in: "OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "OPTIONS two stars", in: "OPTIONS ** HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "OPTIONS star query", in: "OPTIONS *?x HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "OPTIONS star HTTP/1.0", in: "OPTIONS * HTTP/1.0\r\n\r\n", want: []string{"form=asterisk-form", "ehost=<nil>"}},
		{name: "options lower-case star", in: "options * HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrTargetForm},

		// None of the four forms.
		{name: "target query only", in: "GET ?x HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "target bare word", in: "GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "target dot slash", in: "GET ./a HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "target backslash", in: "GET \\a HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "target fragment only", in: "GET #f HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},
		{name: "target scheme digit first", in: "GET 1http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", err: ErrBadTarget},

		// A target error comes first: it is found at the byte after the
		// target, before the version is read.
		{name: "target error before version error", in: "GET * HTTP/2.0\r\nHost: h\r\n\r\n", err: ErrTargetForm},
	}...)
}

// isTargetText reports whether s holds only bytes a request-target may
// (VCHAR).
func isTargetText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// hasPort reports whether the valid host[:port] h has a non-empty port.
func hasPort(h string) bool {
	if strings.HasPrefix(h, "[") {
		h = h[strings.IndexByte(h, ']')+1:]
	}
	i := strings.IndexByte(h, ':')
	return i >= 0 && i+1 < len(h)
}

// TestHeadCasesCover checks that the generated tables hold what the rules
// need: every form with every method, at both outcomes.
func TestHeadCasesCover(t *testing.T) {
	if len(validHosts) < 30 || len(invalidHosts) < 80 {
		t.Errorf("%d valid and %d invalid Host values; want >= 30 and >= 80", len(validHosts), len(invalidHosts))
	}
	seen := map[string]int{}
	for _, c := range targetHeadCases() {
		if c.err == nil {
			seen["ok"]++
		} else {
			seen[c.err.Error()]++
		}
	}
	for _, k := range []string{"ok", ErrTargetForm.Error(), ErrBadTarget.Error(), ErrTargetScheme.Error(), ErrTargetUserinfo.Error()} {
		if seen[k] == 0 {
			t.Errorf("no target case ends in %q", k)
		}
	}
}

func TestValidHostPort(t *testing.T) {
	for _, h := range validHosts {
		if !validHostPort([]byte(h), false) {
			t.Errorf("validHostPort(%q, false) = false; want true", h)
		}
	}
	for _, h := range invalidHosts {
		if validHostPort([]byte(h), false) {
			t.Errorf("validHostPort(%q, false) = true; want false", h)
		}
	}
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"h:1", true},
		{"h:65535", true},
		{"[::1]:443", true},
		{"h", false},
		{"h:", false},
		{"[::1]", false},
		{"[::1]:", false},
		{"", false},
	} {
		if got := validHostPort([]byte(c.in), true); got != c.want {
			t.Errorf("validHostPort(%q, true) = %t; want %t", c.in, got, c.want)
		}
	}
}

// ipv6Oracle reports whether s is an IPv6 address by net/netip's rules,
// which implement RFC 4291 §2.2 as RFC 3986's IPv6address does, less the
// zone identifiers that netip accepts and RFC 3986 has no room for.
func ipv6Oracle(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6() && a.Zone() == "" && !strings.Contains(s, "%")
}

// TestValidIPv6 compares validIPv6 with net/netip on the literals of the
// Host tables and on more edge cases.
func TestValidIPv6(t *testing.T) {
	in := []string{
		"", ":", "::", ":::", "1", "1:", ":1", "::1", "1::", "1::1", "::1:", ":1::",
		"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7::8", "1::2:3:4:5:6:7:8", "1:2:3:4::5:6:7:8",
		"ffff::", "FFFF::", "fffff::", "0000:0000:0000:0000:0000:0000:0000:0000", "00000::",
		"::1.2.3.4", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "1:2:3:4:5:1.2.3.4",
		"1::1.2.3.4", "::1.2.3.4:1", "::1.2.3", "::1.2.3.4.5", "::256.1.1.1", "::01.1.1.1", "::0.0.0.0",
		"::255.255.255.255", "::1.2.3.04", "::1.2..3", "::.1.2.3", "::1.2.3.", "1.2.3.4", "::ffff:1234.1.1.1",
		"fe80::1%eth0", "fe80::1%25eth0", "::g", "::-1", "::+1", "1:2:3:4:5:6:7:8 ", " ::1",
	}
	for _, h := range append(validHosts, invalidHosts...) {
		if strings.HasPrefix(h, "[") && strings.Contains(h, "]") {
			in = append(in, h[1:strings.IndexByte(h, ']')])
		}
	}
	for _, s := range in {
		if got, want := validIPv6([]byte(s)), ipv6Oracle(s); got != want {
			t.Errorf("validIPv6(%q) = %t; net/netip says %t", s, got, want)
		}
	}
}

func FuzzValidIPv6(f *testing.F) {
	for _, s := range []string{"::", "1::2", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "fe80::1%eth0", "1:2:3:4:5:6:7::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validIPv6([]byte(s)), ipv6Oracle(s); got != want {
			t.Fatalf("validIPv6(%q) = %t; net/netip says %t", s, got, want)
		}
	})
}

func TestTargetFormString(t *testing.T) {
	for f, want := range map[TargetForm]string{
		0:             "none",
		OriginForm:    "origin-form",
		AbsoluteForm:  "absolute-form",
		AuthorityForm: "authority-form",
		AsteriskForm:  "asterisk-form",
		5:             "TargetForm(?)",
	} {
		if got := f.String(); got != want {
			t.Errorf("TargetForm(%d).String() = %q; want %q", f, got, want)
		}
	}
}

// TestTargetAccessorsAfterFailure checks that a head that failed after its
// target was classified reports no target, form or authority: the form is
// recorded before the head is complete.
func TestTargetAccessorsAfterFailure(t *testing.T) {
	for _, in := range []string{
		"GET http://h HTTP/1.1\r\nHost: a, b\r\n\r\n",
		"CONNECT h:443 HTTP/1.1\r\nHost: a b\r\n\r\n",
		"GET http://h/p?q HTTP/2.0\r\nHost: h\r\n\r\n",
		"GET http://h HTTP/1.1\r\nHost: h\r\n", // incomplete
	} {
		var p Parser
		p.Init(Limits{})
		if _, err := p.ParseHead([]byte(in)); err == nil {
			t.Fatalf("ParseHead(%q) succeeded", in)
		}
		if p.Form() != 0 || p.Target() != nil || p.Path() != nil || p.RawQuery() != nil ||
			p.TargetAuthority() != nil || p.EffectiveHost() != nil || p.Host() != nil {
			t.Errorf("ParseHead(%q) failed, but accessors report form %v path %q authority %q effective host %q",
				in, p.Form(), p.Path(), p.TargetAuthority(), p.EffectiveHost())
		}
	}
}

// TestTargetRootPathAliasesBuffer checks that the "/" Path returns for an
// absolute-form target without a path is a byte of the head, like every
// other slice the accessors return, and that Rebind moves it.
func TestTargetRootPathAliasesBuffer(t *testing.T) {
	for _, in := range []string{"GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", "GET HTTPS://h?x HTTP/1.1\r\nHost: h\r\n\r\n"} {
		b := []byte(in)
		var p Parser
		p.Init(Limits{})
		if _, err := p.ParseHead(b); err != nil {
			t.Fatal(err)
		}
		path := p.Path()
		if string(path) != "/" || &path[0] != &b[strings.Index(in, "//")+1] {
			t.Fatalf("ParseHead(%q): Path() = %q, not the second '/' of the buffer", in, path)
		}
		moved := fresh(b)
		poison(b)
		p.Rebind(moved)
		if got := p.Path(); string(got) != "/" || &got[0] == &path[0] {
			t.Fatalf("ParseHead(%q): Path() after Rebind = %q at the old buffer", in, got)
		}
	}
}

// TestHostMemo: a parser remembers the last valid Host so a repeat skips
// validation; a different value of the same length, or a longer one, is
// still judged on its own.
func TestHostMemo(t *testing.T) {
	var p Parser
	p.Init(Limits{})
	long := strings.Repeat("h", 60) + ":80"
	for i, c := range []struct {
		host string
		err  error
	}{
		{"ab:80", nil},
		{"ab:80", nil},
		{"a,:80", ErrBadHost}, // same length as the memo
		{"ab:80", nil},
		{"ab:8x", ErrBadHost},
		{long, nil}, // too long for the memo
		{long, nil},
		{long[:len(long)-3] + ":8,", ErrBadHost},
		{"ab:80", nil},
	} {
		p.Reset()
		in := "GET / HTTP/1.1\r\nHost: " + c.host + "\r\n\r\n"
		_, err := p.ParseHead([]byte(in))
		if err != c.err {
			t.Errorf("%d: Host %q: err %v; want %v", i, c.host, err, c.err)
		}
	}
}
