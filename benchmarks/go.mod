module github.com/evhttpd/httpd/benchmarks

go 1.26

replace github.com/evhttpd/httpd => ../

require (
	github.com/evhttpd/httpd v0.0.0-00010101000000-000000000000
	github.com/valyala/fasthttp v1.74.0
)

require (
	github.com/klauspost/compress v1.20.0 // indirect
	github.com/molecule-man/go-brrr v1.0.1 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
)
