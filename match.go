package httpd

// This file holds URI matching: the exact matcher and ESP's wildcard rules
// (MatchWildcard).

// MatchWildcard reports whether uri[:matchUpTo] matches template under
// esp_http_server's httpd_uri_match_wildcard rules:
//
//   - without special characters the match is exact;
//   - a trailing '*' matches any (possibly empty) rest: "/api/*" matches
//     "/api/" and "/api/status" but not "/api";
//   - a trailing '?' makes the character before it optional: "/api/?"
//     matches "/api" and "/api/";
//   - "?*" together make the character before them optional and, when it is
//     present, allow anything after it: "/path/?*" matches "/path",
//     "/path/" and "/path/x". "*?" is read the same way.
//
// A template that is only "?" (no character to make optional) matches
// nothing. Use it as Config.URIMatch.
func MatchWildcard(template, uri string, matchUpTo int) bool {
	if matchUpTo < 0 || matchUpTo > len(uri) {
		matchUpTo = len(uri)
	}
	uri = uri[:matchUpTo]

	n := len(template)
	var last, prev byte
	if n > 0 {
		last = template[n-1]
	}
	if n > 1 {
		prev = template[n-2]
	}
	star := last == '*' || (last == '?' && prev == '*')
	quest := last == '?' || (last == '*' && prev == '?')

	special := 0
	if star {
		special++
	}
	if quest {
		special += 2 // the '?' and the optional character before it
	}
	if n < special {
		return false
	}
	fixed := template[:n-special] // the part that must match exactly

	if len(uri) < len(fixed) || uri[:len(fixed)] != fixed {
		return false
	}
	rest := uri[len(fixed):]
	if !quest {
		return star || rest == ""
	}
	optional := template[len(fixed)]
	if rest == "" {
		return true
	}
	if rest[0] != optional {
		return false
	}
	return star || len(rest) == 1
}

// matchExact is the default matcher: the template equals the path.
func matchExact(template, uri string, matchUpTo int) bool {
	if matchUpTo < 0 || matchUpTo > len(uri) {
		matchUpTo = len(uri)
	}
	return template == uri[:matchUpTo]
}
