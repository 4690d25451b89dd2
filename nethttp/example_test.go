package nethttp_test

import (
	"fmt"
	"io"
	"log"
	"net/http"

	httpd "github.com/evhttpd/httpd"
	"github.com/evhttpd/httpd/nethttp"
)

// Mount a net/http ServeMux under /api/: its handlers run on the Blocking
// worker pool and its replies go out through evhttpd's event loops.
func ExampleMount() {
	srv, err := httpd.Start(httpd.Config{Addr: "127.0.0.1:0", URIMatch: httpd.MatchPattern})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q}`, r.PathValue("id"))
	})
	if err := nethttp.Mount(srv, httpd.URIHandler{URI: "/api/"}, mux); err != nil {
		log.Fatal(err)
	}

	res, err := http.Get("http://" + srv.Addr().String() + "/api/items/42")
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"), string(b))
	// Output: 200 application/json {"id":"42"}
}
