//go:build !race

package http

import (
	"testing"
	"time"
)

// The allocation gates: writing responses must not allocate once the buffer
// has grown. They run without -race, which adds allocations of its own.

func TestResponseHeadAlloc(t *testing.T) {
	buf := make([]byte, 0, 1024)
	body := []byte("Hello World!\n")
	value := []byte("Custom-Value-1")
	allocs := testing.AllocsPerRun(1000, func() {
		b := AppendStatusLine(buf[:0], 1, 200, "")
		b = AppendDate(b)
		b, _ = AppendHeader(b, "Content-Type", "text/plain")
		b, _ = AppendHeader(b, "Connection", "keep-alive")
		b, _ = AppendHeaderBytes(b, "Custom-Header-1", value)
		b, _ = AppendHeader(b, "Custom-Header-2", "Custom-Value-2")
		b = AppendContentLength(b, int64(len(body)))
		b = AppendEndOfHead(b)
		b = append(b, body...)
		// A rejected header is refused without allocating too.
		b, _ = AppendHeader(b, "Bad Name", "v\r\n")
		buf = b
	})
	if allocs != 0 {
		t.Errorf("response head: %v allocs/op; want 0", allocs)
	}
}

func TestChunkAlloc(t *testing.T) {
	buf := make([]byte, 0, 8192)
	data := make([]byte, 4000)
	allocs := testing.AllocsPerRun(1000, func() {
		b := AppendStatusLine(buf[:0], 1, 200, "")
		b, _ = AppendHeader(b, "Transfer-Encoding", "chunked")
		b = AppendEndOfHead(b)
		b = AppendChunk(b, data)
		b = AppendChunkSize(b, len(data))
		b = AppendLastChunk(b)
		buf = b
	})
	if allocs != 0 {
		t.Errorf("chunk: %v allocs/op; want 0", allocs)
	}
}

func TestStatusTextAlloc(t *testing.T) {
	var n int
	allocs := testing.AllocsPerRun(1000, func() {
		for _, c := range []int{200, 404, 500, 999} {
			n += len(StatusText(c)) + len(ErrorBody(c))
		}
	})
	if allocs != 0 {
		t.Errorf("StatusText and ErrorBody: %v allocs/op; want 0", allocs)
	}
}

func TestDateCacheAlloc(t *testing.T) {
	var d DateCache
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		buf = d.AppendHeader(buf[:0])
		buf = d.AppendHeaderAt(buf, time.Now())
	})
	// A new entry is allocated once per second; over 1000 runs the
	// average rounds down to 0 unless the read path allocates.
	if allocs != 0 {
		t.Errorf("DateCache.AppendHeader: %v allocs/op; want 0", allocs)
	}
}

func TestQueryCookieAlloc(t *testing.T) {
	query := []byte("query1=value1&query3=val%20ue3&query2=value2")
	cookie := []byte("cookie1=val1; cookie2=val2")
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		v, _ := QueryValue(query, "query3")
		buf, _ = Unescape(buf[:0], v, true)
		_, _ = Unescape(buf[:0], []byte("%zz"), false)
		_, _ = CookieValue(cookie, "cookie2")
	})
	if allocs != 0 {
		t.Errorf("QueryValue, Unescape, CookieValue: %v allocs/op; want 0", allocs)
	}
}

func TestErrorResponseAlloc(t *testing.T) {
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(1000, func() {
		buf = AppendErrorResponse(buf[:0], 404, false, false)
		buf = AppendErrorResponse(buf, 431, true, false)
	})
	if allocs != 0 {
		t.Errorf("AppendErrorResponse: %v allocs/op; want 0", allocs)
	}
}
