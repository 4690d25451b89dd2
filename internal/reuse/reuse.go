// Package reuse is the agreement under which the server reuses the memory
// of a Blocking request once its handler returned, instead of leaving it
// to the garbage collector: only the nethttp bridge enters it, because it
// alone stands between the handler and the *httpd.Request and refuses
// every use of it after the handler returned (ErrStale), so no goroutine of
// the handler's can reach a later request through it.
//
// Package httpd sets the functions in its init; nethttp calls them.
package reuse

var (
	// Mark makes the handler registered from u, a *httpd.URIHandler, one
	// whose Blocking requests are reused.
	Mark func(u any)
	// Pin keeps r, the *httpd.Request of a marked handler, from being
	// reused: a call of the bridge's into it was still running when the
	// handler returned (a goroutine the handler left reading the body).
	Pin func(r any)
)
