//go:build !race

package httpd

import "testing"

// TestPathValueAlloc: routing by patterns and PathValue allocate nothing.
func TestPathValueAlloc(t *testing.T) {
	srv := startTest(t, Config{URIMatch: MatchPattern})
	var allocs, lookups float64
	mustRegister(t, srv,
		URIHandler{URI: "/items/", Method: "GET", Handler: sendString("list")},
		URIHandler{URI: "/items/{id}/parts/{part...}", Method: "GET", Handler: func(r *Request) error {
			allocs = testing.AllocsPerRun(100, func() {
				if r.PathValue("id") != "42" || r.PathValue("part") != "a/b" {
					t.Error("PathValue wrong")
				}
			})
			lookups = testing.AllocsPerRun(100, func() {
				srv.reg.lookup([]byte("GET"), "/items/42/parts/a/b")
			})
			return r.SendString("ok")
		}},
	)
	rc := dial(t, srv)
	rc.write(req("GET", "/items/42/parts/a/b"))
	if b := bodyOf(rc.response("GET")); b != "ok" {
		t.Fatalf("body %q", b)
	}
	if allocs != 0 || lookups != 0 {
		t.Errorf("PathValue: %v allocs, lookup: %v allocs; want 0", allocs, lookups)
	}
}
