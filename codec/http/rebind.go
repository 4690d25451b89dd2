package http

// Rebind points the accessors of a completed head at b. b must hold the
// same head bytes at the same offsets as the b given to the ParseHead call
// that completed it: the caller moved them (copied the head into memory of
// its own, or the connection's buffer was re-read after more bytes arrived).
// Slices returned afterwards are slices of b.
func (p *Parser) Rebind(b []byte) { p.buf = b }
