package http

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// fuzzCuts returns up to four sorted cut offsets in [0, n] from seed.
func fuzzCuts(seed uint64, n int) []int {
	r := rand.New(rand.NewPCG(seed, seed>>32))
	cuts := make([]int, r.IntN(5))
	for i := range cuts {
		cuts[i] = r.IntN(n + 1)
	}
	sortInts(cuts)
	return cuts
}

// fuzzLimits returns small limits half of the time, so that every limit
// boundary is reachable by short inputs.
func fuzzLimits(seed uint64) Limits {
	if seed&1 == 0 {
		return Limits{}
	}
	return Limits{
		MaxRequestLine: 1 + int(seed>>1%64),
		MaxHeaderBytes: 1 + int(seed>>7%128),
		MaxHeaders:     1 + int(seed>>14%8),
		MaxBodySize:    1 + int64(seed>>17%1024),
		MaxChunkExt:    1 + int(seed>>27%32),
	}
}

func FuzzParseHead(f *testing.F) {
	for i, c := range headCases {
		f.Add([]byte(c.in), uint64(i))
	}
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		lim := fuzzLimits(seed)
		var p Parser
		p.Init(lim)
		n, err := p.ParseHead(in)
		if n < 0 || n > len(in) || (err != nil) != (n == 0) {
			t.Fatalf("ParseHead(%q) = %d, %v", in, n, err)
		}
		if err != nil && err != ErrNeedMore {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("ParseHead(%q) = %v; want an *Error", in, err)
			}
		}
		if err == nil {
			if len(p.Method()) == 0 || len(p.Target()) == 0 || p.NumHeaders() > p.lim.MaxHeaders {
				t.Fatalf("ParseHead(%q) accepted with method %q target %q, %d fields", in, p.Method(), p.Target(), p.NumHeaders())
			}
			if !bytes.HasSuffix(in[:n], []byte("\n")) {
				t.Fatalf("ParseHead(%q) = %d: head does not end in LF", in, n)
			}
			for i := 0; i < p.NumHeaders(); i++ {
				name, value := p.HeaderAt(i)
				if len(name) == 0 || bytes.ContainsAny(value, "\r\n\x00") {
					t.Fatalf("ParseHead(%q): field %d = %q: %q", in, i, name, value)
				}
			}
			checkTarget(t, in, &p)
		}
		whole := headResult(&p, n, err)
		if got := feedHead(lim, in, fuzzCuts(seed, len(in))); !slicesEqual(got, whole) {
			t.Fatalf("ParseHead(%q) split = %q; want %q", in, got, whole)
		}
	})
}

// checkTarget checks what an accepted head says about its target and host
// against the rules of RFC 9112 §3.2 as the parser documents them.
func checkTarget(t *testing.T, in []byte, p *Parser) {
	t.Helper()
	method, target, path := string(p.Method()), p.Target(), p.Path()
	form, auth, host, eh := p.Form(), p.TargetAuthority(), p.Host(), p.EffectiveHost()
	fail := func(why string) {
		t.Fatalf("ParseHead(%q): %s: form %v, path %q, authority %q, Host %q, effective host %q", in, why, form, path, auth, host, eh)
	}
	if (method == "CONNECT") != (form == AuthorityForm) || form == AsteriskForm && method != "OPTIONS" {
		fail("form not allowed with method " + method)
	}
	if len(host) != 0 && !validHostPort(host, false) {
		fail("invalid Host accepted")
	}
	switch form {
	case OriginForm:
		if path[0] != '/' || auth != nil || !bytes.Equal(eh, host) || (eh == nil) != (host == nil) {
			fail("bad origin-form")
		}
	case AbsoluteForm:
		if len(path) == 0 || path[0] != '/' || !validHostPort(auth, false) || bytes.IndexByte(auth, '@') >= 0 ||
			!bytes.Equal(eh, auth) || !bytes.Contains(target, auth) {
			fail("bad absolute-form")
		}
		if s := bytes.ToLower(target[:8]); !bytes.HasPrefix(s, []byte("http://")) && !bytes.HasPrefix(s, []byte("https://")) {
			fail("absolute-form with scheme other than http or https")
		}
	case AuthorityForm:
		if !validHostPort(auth, true) || !bytes.Equal(auth, target) || !bytes.Equal(eh, auth) {
			fail("bad authority-form")
		}
	case AsteriskForm:
		if string(target) != "*" || auth != nil || !bytes.Equal(eh, host) {
			fail("bad asterisk-form")
		}
	default:
		fail("no form")
	}
}

func FuzzChunkedDecoder(f *testing.F) {
	for i, c := range chunkCases {
		f.Add([]byte(c.in), uint64(i))
	}
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		lim := fuzzLimits(seed)
		out, n, done, err := feedChunked(lim, in, nil, 0)
		if n > len(in) || len(out) > n || (done && err != nil) {
			t.Fatalf("Decode(%q) = %d bytes, consumed %d, done %t, %v", in, len(out), n, done, err)
		}
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Decode(%q) = %v; want an *Error", in, err)
			}
		}
		cuts := fuzzCuts(seed, len(in))
		dstSize := int(seed >> 40 % 17)
		whole := chunkResult(out, n, done, err)
		if got := chunkResult(feedChunked(lim, in, cuts, dstSize)); got != whole {
			t.Fatalf("Decode(%q) split %v dst %d = %s; want %s", in, cuts, dstSize, got, whole)
		}
		// Round trip: in as a body, encoded by the test encoder.
		r := rand.New(rand.NewPCG(seed, 3))
		enc := chunkEncode(r, in)
		out, n, done, err = feedChunked(Limits{}, enc, fuzzCuts(seed>>3, len(enc)), dstSize)
		if err != nil || !done || n != len(enc) || !bytes.Equal(out, in) {
			t.Fatalf("round trip of %q via %q = %q, %d, %t, %v", in, enc, out, n, done, err)
		}
	})
}
