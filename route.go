package httpd

// This file holds routing by patterns in net/http.ServeMux's syntax
// (MatchPattern): their validation and comparison at registration, the
// most-specific-wins lookup, and Request.PathValue.

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unsafe"
)

// MatchPattern is a Config.URIMatch that reads templates as patterns in
// net/http.ServeMux's syntax, path part only:
//
//   - "/items/{id}": a wildcard matches one non-empty path segment;
//   - "/files/{path...}": a last wildcard with "..." matches the rest of
//     the path, possibly empty;
//   - "/docs/": a trailing slash matches every path under it ("/docs/"
//     included, "/docs" not);
//   - "/docs/{$}": matches "/docs/" only;
//   - anything else matches exactly.
//
// With MatchPattern as Config.URIMatch the server routes by precedence, as
// ServeMux does: when several patterns match a path the most specific wins
// (the one whose matches are a strict subset of the other's: "/items/new"
// over "/items/{id}", "/items/{id}" over "/items/"), whatever the order of
// registration. Two patterns that overlap without either being more
// specific ("/{a}/x" and "/x/{b}") are refused at registration
// (ErrPatternConflict), as is an invalid pattern (ErrInvalidPattern). The
// method is chosen among the handlers of the winning pattern (405 with
// Allow when it has none for the request's); unlike ServeMux, methods take
// no part in precedence. Paths are matched as received: nothing is
// percent-decoded, and Request.PathValue returns raw segments.
//
// Called directly it reports whether uri[:matchUpTo] matches template.
func MatchPattern(template, uri string, matchUpTo int) bool {
	if matchUpTo < 0 || matchUpTo > len(uri) {
		matchUpTo = len(uri)
	}
	_, ok := matchPath(template, uri[:matchUpTo], "")
	return ok
}

// Pattern errors.
var (
	ErrInvalidPattern  = errors.New("httpd: invalid URI pattern")
	ErrPatternConflict = errors.New("httpd: URI pattern overlaps a registered one and neither is more specific")
)

// isMatchPattern reports whether f is MatchPattern (functions compare only
// by their code pointer).
func isMatchPattern(f func(string, string, int) bool) bool {
	return f != nil && reflect.ValueOf(f).Pointer() == reflect.ValueOf(MatchPattern).Pointer()
}

// matchPath walks a pattern and a path together. It reports whether they
// match and, when want names a wildcard, that wildcard's value (a substring
// of path). It allocates nothing.
func matchPath(tpl, path, want string) (val string, ok bool) {
	if len(tpl) == 0 || tpl[0] != '/' || len(path) == 0 || path[0] != '/' {
		return "", tpl == path && tpl != ""
	}
	ti, pi := 1, 1
	for {
		// At the start of a segment in both.
		if ti == len(tpl) {
			return "", true // trailing slash: the rest of the path, whatever it is
		}
		tj := strings.IndexByte(tpl[ti:], '/')
		if tj < 0 {
			tj = len(tpl)
		} else {
			tj += ti
		}
		tseg := tpl[ti:tj]
		pj := strings.IndexByte(path[pi:], '/')
		if pj < 0 {
			pj = len(path)
		} else {
			pj += pi
		}
		pseg := path[pi:pj]
		if len(tseg) > 1 && tseg[0] == '{' {
			name := tseg[1 : len(tseg)-1]
			switch {
			case name == "$":
				return "", pi == len(path)
			case strings.HasSuffix(name, "..."):
				if name[:len(name)-3] == want && want != "" {
					val = path[pi:]
				}
				return val, true
			}
			if pseg == "" {
				return "", false
			}
			if name == want && want != "" {
				val = pseg
			}
		} else if tseg != pseg {
			return "", false
		}
		if tj == len(tpl) {
			return val, pj == len(path)
		}
		if pj == len(path) {
			return "", false
		}
		ti, pi = tj+1, pj+1
	}
}

// segKind is what one segment of a compiled pattern matches.
type segKind uint8

const (
	segLit   segKind = iota // exactly its text
	segWild                 // one non-empty segment
	segMulti                // the rest of the path (a "{x...}" or a trailing slash): one or more segments
	segEnd                  // "{$}": the path ends here, after a slash
)

type seg struct {
	kind segKind
	text string // the literal, or the wildcard's name
}

// compilePattern validates a pattern and returns its segments.
func compilePattern(p string) ([]seg, error) {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidPattern, p, why) }
	if p == "" || p[0] != '/' {
		return nil, bad("a pattern starts with /")
	}
	var segs []seg
	names := map[string]bool{}
	rest := p[1:]
	for {
		if rest == "" {
			// After a slash (or the leading one): a trailing slash.
			segs = append(segs, seg{kind: segMulti})
			return segs, nil
		}
		s, after, more := strings.Cut(rest, "/")
		switch {
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
			name := s[1 : len(s)-1]
			kind := segWild
			switch {
			case name == "$":
				if more {
					return nil, bad("{$} must end the pattern")
				}
				return append(segs, seg{kind: segEnd}), nil
			case strings.HasSuffix(name, "..."):
				name = name[:len(name)-3]
				if more {
					return nil, bad("a {name...} wildcard must end the pattern")
				}
				kind = segMulti
			}
			if !validWildcardName(name) {
				return nil, bad("wildcard name " + name + " is not a Go identifier")
			}
			if names[name] {
				return nil, bad("wildcard name " + name + " used twice")
			}
			names[name] = true
			segs = append(segs, seg{kind: kind, text: name})
			if kind == segMulti {
				return segs, nil
			}
		case strings.ContainsAny(s, "{}"):
			return nil, bad("a wildcard must be a whole segment")
		default:
			segs = append(segs, seg{kind: segLit, text: s})
		}
		if !more {
			return segs, nil
		}
		rest = after
	}
}

func validWildcardName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' || c >= 0x80 {
			continue
		}
		return false
	}
	return true
}

// relation is how the request sets two patterns match compare.
type relation uint8

const (
	relDisjoint relation = iota // no path matches both
	relEqual                    // they match the same paths
	relMore                     // the first matches a strict subset of the second's
	relLess                     // the second matches a strict subset of the first's
	relConflict                 // they overlap and neither contains the other
)

// comparePatterns compares two compiled patterns segment by segment. A
// literal or a wildcard is narrower than a multi; a literal is narrower
// than a wildcard; {$} and an end of pattern are disjoint from a multi at
// the same place (a multi needs one more segment).
func comparePatterns(a, b []seg) relation {
	aSub, bSub := false, false // a narrower somewhere, b narrower somewhere
	for i := 0; ; i++ {
		ea, eb := i >= len(a), i >= len(b)
		switch {
		case ea && eb:
			goto done
		case ea || eb:
			// One pattern ended (matches exactly i segments) where the
			// other still needs more: no path matches both.
			return relDisjoint
		}
		x, y := a[i], b[i]
		// {$} at i means "an empty last segment here".
		if x.kind == segEnd {
			x = seg{kind: segLit}
		}
		if y.kind == segEnd {
			y = seg{kind: segLit}
		}
		switch {
		case x.kind == segMulti && y.kind == segMulti:
			goto done
		case x.kind == segMulti:
			// b continues with segments a's multi covers (an empty last
			// one, {$}, included): b narrower.
			bSub = true
			goto done
		case y.kind == segMulti:
			aSub = true
			goto done
		case x.kind == segLit && y.kind == segLit:
			if x.text != y.text {
				return relDisjoint
			}
		case x.kind == segLit: // y a wildcard
			if x.text == "" {
				return relDisjoint // a wildcard matches no empty segment
			}
			aSub = true
		case y.kind == segLit: // x a wildcard
			if y.text == "" {
				return relDisjoint
			}
			bSub = true
		}
	}
done:
	switch {
	case aSub && bSub:
		return relConflict
	case aSub:
		return relMore
	case bSub:
		return relLess
	}
	return relEqual
}

// patternTable is the precedence order of a handler table's patterns:
// handlers sorted so that a pattern comes before every pattern it is more
// specific than, those of one pattern together.
func sortByPrecedence(list []*handler) ([]*handler, error) {
	// Unique patterns, in registration order.
	var uris []string
	segs := map[string][]seg{}
	for _, h := range list {
		if _, ok := segs[h.URI]; !ok {
			s, err := compilePattern(h.URI)
			if err != nil {
				return nil, err
			}
			segs[h.URI] = s
			uris = append(uris, h.URI)
		}
	}
	// Kahn's algorithm over "more specific than".
	n := len(uris)
	indeg := make([]int, n)
	after := make([][]int, n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			switch comparePatterns(segs[uris[i]], segs[uris[j]]) {
			case relMore:
				after[i] = append(after[i], j)
				indeg[j]++
			case relLess:
				after[j] = append(after[j], i)
				indeg[i]++
			case relConflict, relEqual:
				return nil, fmt.Errorf("%w: %q and %q", ErrPatternConflict, uris[i], uris[j])
			}
		}
	}
	var order []string
	var ready []int
	for i := 0; i < n; i++ {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		order = append(order, uris[i])
		for _, j := range after[i] {
			if indeg[j]--; indeg[j] == 0 {
				ready = append(ready, j)
			}
		}
	}
	out := make([]*handler, 0, len(list))
	for _, u := range order {
		for _, h := range list {
			if h.URI == u {
				out = append(out, h)
			}
		}
	}
	return out, nil
}

// checkPatterns validates a registration under MatchPattern against the
// table: the pattern must be valid, and must not overlap a registered
// pattern without one of them being the more specific. Equal patterns are
// the same URI written alike (the methods then decide, as for any URI) or
// spelled differently ("/a/{x}" and "/a/{y}"), which is a conflict.
func checkPatterns(list []*handler, uri string) error {
	s, err := compilePattern(uri)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, h := range list {
		if h.URI == uri || seen[h.URI] {
			continue
		}
		seen[h.URI] = true
		o, err := compilePattern(h.URI)
		if err != nil {
			continue
		}
		switch comparePatterns(s, o) {
		case relConflict, relEqual:
			return fmt.Errorf("%w: %q and the registered %q", ErrPatternConflict, uri, h.URI)
		}
	}
	return nil
}

// patternURI returns the most specific registered pattern matching path,
// "" when none does.
func (t *handlerTable) patternURI(path string) string {
	for _, h := range t.list {
		if _, ok := matchPath(h.URI, path, ""); ok {
			return h.URI
		}
	}
	return ""
}

// PathValue returns the value of the named wildcard of the handler's
// pattern in the request's path ("" when the pattern has none of that name,
// or the server does not route with MatchPattern). The value is the raw
// segment, not percent-decoded, and like every slice the Request hands out
// it is valid only until the handler returns: strings.Clone what you keep.
// It allocates nothing.
func (r *Request) PathValue(name string) string {
	if r.h == nil || r.p == nil || name == "" || !r.srv.reg.patterns {
		return ""
	}
	path := r.p.Path()
	v, _ := matchPath(r.h.URI, unsafe.String(unsafe.SliceData(path), len(path)), name)
	return v
}

// Pattern returns the URI template of the handler serving the request.
func (r *Request) Pattern() string {
	if r.h == nil {
		return ""
	}
	return r.h.URI
}

// PathValues calls fn with every wildcard of the handler's pattern and its
// value in the request's path (see PathValue), in pattern order.
func (r *Request) PathValues(fn func(name, value string)) {
	if r.h == nil || r.p == nil || !r.srv.reg.patterns {
		return
	}
	tpl := r.h.URI
	for tpl != "" {
		i := strings.IndexByte(tpl, '{')
		if i < 0 {
			return
		}
		j := strings.IndexByte(tpl[i:], '}')
		if j < 0 {
			return
		}
		name := strings.TrimSuffix(tpl[i+1:i+j], "...")
		tpl = tpl[i+j+1:]
		if name == "$" {
			continue
		}
		fn(name, r.PathValue(name))
	}
}

// warnUnmatchable logs, at registration, a URI the exact matcher can never
// match the way it reads: one with ESP's wildcard characters or a pattern
// wildcard. Config.URIMatch must be set for those (MatchWildcard,
// MatchPattern).
func (s *Server) warnUnmatchable(uri string) {
	if s.reg.exact && uri != "*" && strings.ContainsAny(uri, "{*?") {
		s.log.Warn("httpd: URI has {, * or ? but the server matches URIs exactly: it matches only this literal path; set Config.URIMatch to httpd.MatchPattern or httpd.MatchWildcard",
			"uri", uri)
	}
}
