package httpd

import "testing"

func TestMatchWildcard(t *testing.T) {
	tests := []struct {
		tpl, uri string
		want     bool
	}{
		// Vectors published with esp_http_server's tests.
		{"*", "/any/path", true},
		{"/api/?", "/api", true},
		{"/api/?", "/api/", true},
		{"/api/*", "/api/status", true},
		{"/path/*", "/path/", true},
		{"/path/?*", "/path", true},
		{"/path/?*", "/path/blabla", true},
		{"/api", "/different", false},
		{"/api/*", "/api", false},
		{"/path/?", "/pathxx", false},
		// The rules, case by case.
		{"", "", true},
		{"", "/", false},
		{"/", "/", true},
		{"/a", "/a", true},
		{"/a", "/ab", false},
		{"/a", "/", false},
		{"*", "", true},
		{"/*", "/", true},
		{"/*", "", false},
		{"/a/?", "/a/x", false},
		{"/a/?", "/a//", false},
		{"/a/?", "/ax", false},
		{"/a/?*", "/a/", true},
		{"/a/?*", "/a/b/c", true},
		{"/a/?*", "/ab", false},
		{"/a/*?", "/a", true},
		{"/a/*?", "/a/zz", true},
		{"/a/*?", "/ax", false},
		{"?", "", false},
		{"?", "x", false},
		{"?*", "", false},
		{"a?", "", true},
		{"a?", "a", true},
		{"a?", "b", false},
		{"/v1/models/?*", "/v1/models", true},
		{"/v1/models/?*", "/v1/models/1/instances/0", true},
		{"/v1/models/?*", "/v1/modelsx", false},
	}
	for _, tt := range tests {
		if got := MatchWildcard(tt.tpl, tt.uri, len(tt.uri)); got != tt.want {
			t.Errorf("MatchWildcard(%q, %q) = %v; want %v", tt.tpl, tt.uri, got, tt.want)
		}
	}
}

func TestMatchWildcardUpTo(t *testing.T) {
	if !MatchWildcard("/hello", "/hello?x=1", 6) {
		t.Error(`MatchWildcard("/hello", "/hello?x=1", 6) = false; want true`)
	}
	if MatchWildcard("/hello", "/hello?x=1", 10) {
		t.Error(`MatchWildcard("/hello", "/hello?x=1", 10) = true; want false`)
	}
	if !MatchWildcard("/h*", "/hello", 99) {
		t.Error("matchUpTo beyond the string must clamp")
	}
}
