module github.com/evhttpd/httpd/internal/interop

go 1.26

replace github.com/evhttpd/httpd => ../..

require (
	github.com/coder/websocket v1.8.15
	github.com/evhttpd/httpd v0.0.0-00010101000000-000000000000
	github.com/gorilla/websocket v1.5.3
	go.uber.org/goleak v1.3.0
)

require (
	github.com/bytedance/gopkg v0.1.1 // indirect
	github.com/cloudwego/gopkg v0.1.4 // indirect
	github.com/cloudwego/netpoll v0.7.2 // indirect
	github.com/klauspost/compress v1.18.0 // indirect
	github.com/panjf2000/ants/v2 v2.12.1 // indirect
	github.com/panjf2000/gnet/v2 v2.10.0 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
	golang.org/x/sync v0.11.0 // indirect
	golang.org/x/sys v0.30.0 // indirect
	gopkg.in/natefinch/lumberjack.v2 v2.2.1 // indirect
)
