package httpd_test

import (
	"fmt"
	"log"
	"log/slog"
	"os"

	httpd "github.com/evhttpd/httpd"
)

// Route by ServeMux-style patterns: the most specific pattern serves, and
// PathValue reads its wildcards. AccessLog logs every request through
// Config.OnRequestDone.
func ExampleMatchPattern() {
	access := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case "time", "duration", "session": // vary from run to run
				return slog.Attr{}
			}
			return a
		},
	}))
	srv, err := httpd.Start(httpd.Config{Addr: "127.0.0.1:0", EventLoops: 1,
		URIMatch: httpd.MatchPattern, OnRequestDone: httpd.AccessLog(access, slog.LevelInfo)})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	for _, h := range []httpd.URIHandler{
		{URI: "/items/{id}", Method: "GET", Handler: func(r *httpd.Request) error {
			return r.SendString("item " + r.PathValue("id"))
		}},
		{URI: "/items/new", Method: "GET", Handler: func(r *httpd.Request) error {
			return r.SendString("the form for a new item")
		}},
		{URI: "/files/{path...}", Method: "GET", Handler: func(r *httpd.Request) error {
			return r.SendString("file " + r.PathValue("path"))
		}},
	} {
		if err := srv.RegisterURIHandler(h); err != nil {
			log.Fatal(err)
		}
	}
	base := "http://" + srv.Addr().String()
	fmt.Println(get(base + "/items/42"))
	fmt.Println(get(base + "/items/new"))
	fmt.Println(get(base + "/files/a/b.txt"))
	// Output:
	// level=INFO msg=request method=GET uri=/items/42 status=200 bytes_in=0 bytes_out=7
	// 200 item 42
	// level=INFO msg=request method=GET uri=/items/new status=200 bytes_in=0 bytes_out=23
	// 200 the form for a new item
	// level=INFO msg=request method=GET uri=/files/a/b.txt status=200 bytes_in=0 bytes_out=12
	// 200 file a/b.txt
}
