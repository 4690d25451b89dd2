package http

import (
	"strings"
	"testing"
)

// TestParseHeadResumeErrorAtByte feeds heads one byte per call, each call
// with a fresh copy of everything so far, and checks that the error comes
// with the call that delivers the offending byte, also when no line end
// follows it: the resume fast path must not defer a rejection to the end
// of the line. at is the length of the prefix that first fails.
func TestParseHeadResumeErrorAtByte(t *testing.T) {
	const rl = "GET / HTTP/1.1\r\nHost: a\r\n"
	for _, c := range []struct {
		name string
		in   string
		lim  Limits
		at   int
		err  error
	}{
		{"NUL in method", "GE\x00T", Limits{}, 3, ErrMethod},
		{"slash in method", "GE/T / HTTP/1.1", Limits{}, 3, ErrMethod},
		{"NUL in target", "GET /ab\x00cd", Limits{}, 8, ErrBadTarget},
		{"obs-text in target", "GET /ab\x80cd", Limits{}, 8, ErrBadTarget},
		{"DEL in version", "GET / HT\x7fTP/1.1", Limits{}, 9, ErrBadVersion},
		{"SP in field name", rl + "X y: 1", Limits{}, len(rl) + 2, ErrBadHeaderName},
		{"NUL in field value", rl + "X: ab\x00c", Limits{}, len(rl) + 6, ErrBadHeaderValue},
		{"NUL after value OWS", rl + "X: \t\x00", Limits{}, len(rl) + 5, ErrBadHeaderValue},
		{"bare CR in value", rl + "X: ab\rc", Limits{}, len(rl) + 7, ErrBareCR},
		{"CR then NUL in version", "GET / HTTP/1.1\r\x00", Limits{}, 16, ErrBareCR},
		{"request line limit in target", "GET /" + strings.Repeat("a", 40), Limits{MaxRequestLine: 20}, 21, ErrURITooLong},
		{"request line limit in method", strings.Repeat("G", 40), Limits{MaxRequestLine: 20}, 21, ErrURITooLong},
		{"request line limit in version", "GET / HTTP/1.1111111111", Limits{MaxRequestLine: 16}, 17, ErrURITooLong},
		{"header limit in value", rl + "X: " + strings.Repeat("v", 40), Limits{MaxHeaderBytes: 30}, 16 + 30 + 1, ErrHeaderTooLarge},
		{"header limit in name", rl + strings.Repeat("n", 40), Limits{MaxHeaderBytes: 30}, 16 + 30 + 1, ErrHeaderTooLarge},
		{"field count on first byte", rl + "A: 1\r\nB", Limits{MaxHeaders: 2}, len(rl) + 7, ErrTooManyHeaders},
		{"obs-fold on first byte", rl + " x", Limits{}, len(rl) + 1, ErrObsFold},
		// The target's form is decided by the byte after the target.
		{"asterisk with GET", "GET * HTTP/1.1", Limits{}, 6, ErrTargetForm},
		{"authority-form with GET", "GET h:80 HTTP/1.1", Limits{}, 9, ErrTargetForm},
		{"CONNECT with origin-form", "CONNECT /abc HTTP/1.1", Limits{}, 13, ErrTargetForm},
		{"CONNECT without port", "CONNECT abc HTTP/1.1", Limits{}, 12, ErrBadTarget},
		{"absolute-form userinfo", "GET http://u@h/abc HTTP/1.1", Limits{}, 19, ErrTargetUserinfo},
		{"absolute-form scheme", "GET ftp://h/abc HTTP/1.1", Limits{}, 16, ErrTargetScheme},
		{"absolute-form bad port", "GET http://h:123456 HTTP/1.1", Limits{}, 20, ErrBadTarget},
		// A Host value is checked when its line ends.
		{"Host with comma", "GET / HTTP/1.1\r\nX: 1\r\nHost: a, b\r\nY", Limits{}, len("GET / HTTP/1.1\r\nX: 1\r\nHost: a, b\r\n"), ErrBadHost},
		{"Host with SP bare LF", "GET / HTTP/1.1\nHost: a b/c\nY", Limits{}, len("GET / HTTP/1.1\nHost: a b/c\n"), ErrBadHost},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			var p Parser
			p.Init(c.lim)
			for i := 1; i <= len(in); i++ {
				n, err := p.ParseHead(fresh(in[:i]))
				if i < c.at {
					if err != ErrNeedMore {
						t.Fatalf("ParseHead(%q) = %d, %v; want 0, %v", in[:i], n, err, ErrNeedMore)
					}
					continue
				}
				if n != 0 || err != c.err {
					t.Fatalf("ParseHead(%q) = %d, %v; want 0, %v", in[:i], n, err, c.err)
				}
				break
			}
			// Whole, the same prefix fails the same way.
			var q Parser
			q.Init(c.lim)
			if n, err := q.ParseHead(in[:c.at]); n != 0 || err != c.err {
				t.Fatalf("ParseHead(%q) whole = %d, %v; want 0, %v", in[:c.at], n, err, c.err)
			}
		})
	}
}

// TestParseHeadResumeVersion covers a head resumed inside its HTTP-version:
// the "HTTP/1.1" fast check must not match a suffix of a longer version.
// With MaxRequestLine at the line's length the rest of the head lies
// beyond the resume window, so the state machine, not the resume fast
// path, sees the second piece.
func TestParseHeadResumeVersion(t *testing.T) {
	for _, in := range []string{
		"GET / XXHTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HHTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/HTTP/1.1\r\nHost: a\r\n\r\n",
	} {
		b := []byte(in)
		for _, lim := range []Limits{{}, {MaxRequestLine: strings.IndexByte(in, '\r')}} {
			whole := feedHead(lim, b, nil)
			if whole[1] != "err="+ErrBadVersion.Error() {
				t.Fatalf("ParseHead(%q) = %q; want %v", in, whole[:2], ErrBadVersion)
			}
			for cut := 0; cut < len(b); cut++ {
				if got := feedHead(lim, b, []int{cut}); !slicesEqual(got, whole) {
					t.Fatalf("ParseHead(%q) split at %d = %q; want %q", in, cut, got, whole)
				}
			}
		}
	}
}

// TestParseHeadResumeLargeIncrement resumes inside a token or value with
// an increment holding the rest of the head, and with increments of every
// size up to 40 bytes: the fast path steps over part of the increment and
// hands the rest to the state machine.
func TestParseHeadResumeLargeIncrement(t *testing.T) {
	in := []byte("GET /some/path?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: a b c d e f g h i j k l m\r\nX-Long-Name-Here: " + strings.Repeat("v", 100) + "\r\n\r\n")
	whole := feedHead(Limits{}, in, nil)
	if whole[1] != "err=<nil>" {
		t.Fatalf("ParseHead(%q) = %q; want success", in, whole[:2])
	}
	for step := 1; step <= 40; step++ {
		var cuts []int
		for c := step; c < len(in); c += step {
			cuts = append(cuts, c)
		}
		if got := feedHead(Limits{}, in, cuts); !slicesEqual(got, whole) {
			t.Fatalf("ParseHead(%q) in steps of %d = %q; want %q", in, step, got, whole)
		}
	}
}

// TestParseHeadResumeSmallLimits feeds every table case in steps of one to
// three bytes under small limits, so that the resume fast path meets every
// limit boundary, and compares with the case fed whole under the same
// limits.
func TestParseHeadResumeSmallLimits(t *testing.T) {
	for _, lim := range []Limits{
		{MaxRequestLine: 14, MaxHeaderBytes: 9, MaxHeaders: 1},
		{MaxRequestLine: 15, MaxHeaderBytes: 10, MaxHeaders: 2},
		{MaxRequestLine: 16, MaxHeaderBytes: 40, MaxHeaders: 3},
		{MaxRequestLine: 30, MaxHeaderBytes: 100, MaxHeaders: 5},
	} {
		for _, c := range headCases {
			in := []byte(c.in)
			whole := feedHead(lim, in, nil)
			for step := 1; step <= 3; step++ {
				var cuts []int
				for k := step; k < len(in); k += step {
					cuts = append(cuts, k)
				}
				if got := feedHead(lim, in, cuts); !slicesEqual(got, whole) {
					t.Fatalf("ParseHead(%q) with %+v in steps of %d = %q; want %q", in, lim, step, got, whole)
				}
			}
		}
	}
}
