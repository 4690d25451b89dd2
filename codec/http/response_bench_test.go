package http

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkAppendResponse writes the response the ESP simple example's
// /hello handler sends: status line, Date, Content-Type, the two custom
// fields, Content-Length and a 13-byte body.
func BenchmarkAppendResponse(b *testing.B) {
	body := []byte("Hello World!\n")
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(rspTHelloResponse(buf[:0], body))))
	for b.Loop() {
		buf = rspTHelloResponse(buf[:0], body)
	}
}

func rspTHelloResponse(b, body []byte) []byte {
	b = AppendStatusLine(b, 1, 200, "")
	b = AppendDate(b)
	b, _ = AppendHeader(b, "Content-Type", "text/html")
	b, _ = AppendHeader(b, "Custom-Header-1", "Custom-Value-1")
	b, _ = AppendHeader(b, "Custom-Header-2", "Custom-Value-2")
	b = AppendContentLength(b, int64(len(body)))
	b = AppendEndOfHead(b)
	return append(b, body...)
}

// BenchmarkDateCache measures the read path: clock, atomic load, compare.
func BenchmarkDateCache(b *testing.B) {
	b.Run("AppendDate", func(b *testing.B) {
		buf := make([]byte, 0, 64)
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendDate(buf[:0])
		}
	})
	b.Run("AppendDateAt", func(b *testing.B) { // the check without the clock
		buf := make([]byte, 0, 64)
		now := time.Now()
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendDateAt(buf[:0], now)
		}
	})
	b.Run("TimeNow", func(b *testing.B) { // the clock alone, for comparison
		var s int64
		for b.Loop() {
			s += time.Now().Unix()
		}
		_ = s
	})
	b.Run("Format", func(b *testing.B) { // what the cache saves per call
		var d [DateLen]byte
		for b.Loop() {
			rspFormatDate(&d, time.Now())
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, 0, 64)
			for pb.Next() {
				buf = AppendDate(buf[:0])
			}
		})
	})
}

func BenchmarkAppendChunk(b *testing.B) {
	for _, size := range []int{16, 1024, 16384} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			data := make([]byte, size)
			buf := make([]byte, 0, size+32)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				buf = AppendChunk(buf[:0], data)
			}
		})
	}
}

func BenchmarkQueryValue(b *testing.B) {
	query := []byte("query1=value1&query3=value3&query2=value2")
	b.ReportAllocs()
	b.SetBytes(int64(len(query)))
	for b.Loop() {
		QueryValue(query, "query2")
	}
}

func BenchmarkUnescape(b *testing.B) {
	src := []byte("name=J%C3%BCrgen+M%C3%BCller&city=K%C3%B6ln")
	buf := make([]byte, 0, len(src))
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		buf, _ = Unescape(buf[:0], src, true)
	}
}

// BenchmarkAppendHeader appends one short reply field, as a handler's
// SetHeader does for each field it sets.
func BenchmarkAppendHeader(b *testing.B) {
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf, _ = AppendHeader(buf[:0], "Server", "evhttpd")
	}
}
