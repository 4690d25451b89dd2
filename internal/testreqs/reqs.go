// Package testreqs holds HTTP/1.1 requests, byte for byte as clients send
// them, shared by the parser's tests and benchmarks and by the benchmarks
// module so that every measurement parses the same input. Strings, so that
// no test can modify what another reads; convert with []byte(s).
package testreqs

// Wrk49 is the 49-byte GET that wrk sends to a plaintext endpoint.
var Wrk49 = "GET /plaintext HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"\r\n"

// Curl is the GET that curl 8.x sends with no options.
var Curl = "GET / HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"User-Agent: curl/8.5.0\r\n" +
	"Accept: */*\r\n" +
	"\r\n"

// Hdr219 is a 219-byte API request with 10 header fields.
var Hdr219 = "GET /items?id=42 HTTP/1.1\r\n" +
	"Host: example.com\r\n" +
	"User-Agent: wrk\r\n" +
	"Accept: */*\r\n" +
	"Accept-Encoding: gzip\r\n" +
	"Accept-Language: en\r\n" +
	"Connection: keep-alive\r\n" +
	"Cache-Control: no-cache\r\n" +
	"X-Request-Id: 1\r\n" +
	"Cookie: a=b\r\n" +
	"Pragma: no-cache\r\n" +
	"\r\n"

// Browser700 is a Chrome 124 top-level navigation (688 bytes, 15 fields).
var Browser700 = "GET /index.html HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"Connection: keep-alive\r\n" +
	"Cache-Control: max-age=0\r\n" +
	"sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n" +
	"sec-ch-ua-mobile: ?0\r\n" +
	"sec-ch-ua-platform: \"Linux\"\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n" +
	"Sec-Fetch-Site: none\r\n" +
	"Sec-Fetch-Mode: navigate\r\n" +
	"Sec-Fetch-User: ?1\r\n" +
	"Sec-Fetch-Dest: document\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"\r\n"

// Firefox is a Firefox 125 top-level navigation.
var Firefox = "GET / HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Connection: keep-alive\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"Sec-Fetch-Dest: document\r\n" +
	"Sec-Fetch-Mode: navigate\r\n" +
	"Sec-Fetch-Site: none\r\n" +
	"Sec-Fetch-User: ?1\r\n" +
	"Priority: u=1\r\n" +
	"\r\n"

// ChunkedPostHead is the head of ChunkedPost, as curl sends it for
// `curl -H 'Transfer-Encoding: chunked' --data-binary @file`.
var ChunkedPostHead = "POST /upload HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"User-Agent: curl/8.5.0\r\n" +
	"Accept: */*\r\n" +
	"Transfer-Encoding: chunked\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"\r\n"

// ChunkedPostBody is ChunkedPost's body after chunked decoding.
var ChunkedPostBody = "abcdefghijklmnopqrstuvwxyz0123456789abcdef"

// ChunkedPost is a complete chunked POST: ChunkedPostHead, then two chunks
// (the second with an extension), the last chunk and an empty trailer section.
var ChunkedPost = ChunkedPostHead +
	"1a\r\nabcdefghijklmnopqrstuvwxyz\r\n" +
	"10;ext=1\r\n0123456789abcdef\r\n" +
	"0\r\n\r\n"
