package httpd_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	httpd "github.com/evhttpd/httpd"
)

// get fetches url with Go's client and returns the status and body.
func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, b)
}

// Start a server, register a handler, stop it.
func ExampleStart() {
	srv, err := httpd.Start(httpd.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()

	err = srv.RegisterURIHandler(httpd.URIHandler{
		URI: "/hello", Method: "GET",
		UserCtx: "Hello World!",
		Handler: func(r *httpd.Request) error {
			return r.SendString(r.UserCtx().(string))
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(get("http://" + srv.Addr().String() + "/hello"))
	// Output: 200 Hello World!
}

// A session context lives as long as the connection: here a running sum
// per client, freed by the server when the connection closes.
func ExampleRequest_SetSessCtx() {
	srv, err := httpd.Start(httpd.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	freed := make(chan int64, 1)
	_ = srv.RegisterURIHandler(httpd.URIHandler{
		URI: "/adder", Method: "POST",
		Handler: func(r *httpd.Request) error {
			sum, _ := r.SessCtx().(*int64)
			if sum == nil {
				sum = new(int64)
				r.SetSessCtx(sum, func(v any) { freed <- *v.(*int64) })
			}
			n, err := strconv.ParseInt(string(r.Body()), 10, 64)
			if err != nil {
				return r.SendErr(400, "the body must be an integer")
			}
			*sum += n
			return r.SendString(strconv.FormatInt(*sum, 10))
		},
	})
	// One keep-alive connection: the sum grows across its requests.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	for _, n := range []string{"1", "2", "3"} {
		resp, err := client.Post("http://"+srv.Addr().String()+"/adder", "text/plain", strings.NewReader(n))
		if err != nil {
			log.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(b))
	}
	client.CloseIdleConnections()
	fmt.Println("freed with", <-freed)
	// Output:
	// 1
	// 3
	// 6
	// freed with 6
}

// Any goroutine can run work on a session's event loop, in order, through
// its session ID. Here a handler hands its ID to a goroutine, which
// answers later through a detached reply.
func ExampleServer_QueueWork() {
	srv, err := httpd.Start(httpd.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	_ = srv.RegisterURIHandler(httpd.URIHandler{
		URI: "/later", Method: "GET",
		Handler: func(r *httpd.Request) error {
			id := r.Session().ID()
			reply, err := r.Detach()
			if err != nil {
				return err
			}
			go func() {
				time.Sleep(10 * time.Millisecond) // some work elsewhere
				_ = srv.QueueWork(id, func(s *httpd.Session) {
					// Runs on the session's loop: session state needs no lock.
					s.SetCtx("visited", nil)
				})
				_ = reply.Do(func(r *httpd.Request) error { return r.SendString("done later") })
				_ = reply.Done()
			}()
			return nil
		},
	})
	fmt.Println(get("http://" + srv.Addr().String() + "/later"))
	// Output: 200 done later
}

// A WebSocket endpoint: the handler sees the handshake first (a reply
// there refuses it), then every message.
func ExampleURIHandler_webSocket() {
	srv, err := httpd.Start(httpd.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	err = srv.RegisterURIHandler(httpd.URIHandler{
		URI: "/ws", Method: "GET", IsWebSocket: true,
		Subprotocols: []string{"chat"},
		Handler: func(r *httpd.Request) error {
			if r.IsWSHandshake() {
				return nil // accept
			}
			f, _ := r.WSFrame()
			return r.WSSend(httpd.WSFrame{Type: f.Type, Payload: append([]byte("echo: "), f.Payload...)})
		},
	})
	fmt.Println(err)
	// Output: <nil>
}

// A Blocking handler streams Server-Sent Events: Flush sends each event
// before the handler goes on.
func ExampleRequest_Flush() {
	srv, err := httpd.Start(httpd.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	_ = srv.RegisterURIHandler(httpd.URIHandler{
		URI: "/events", Method: "GET", Blocking: true,
		Handler: func(r *httpd.Request) error {
			_ = r.SetType("text/event-stream")
			for i := 1; i <= 3; i++ {
				if err := r.SendChunk([]byte("data: tick " + strconv.Itoa(i) + "\n\n")); err != nil {
					return err
				}
				if err := r.Flush(); err != nil {
					return err // the client left
				}
				time.Sleep(10 * time.Millisecond)
			}
			return nil
		},
	})
	resp, err := http.Get("http://" + srv.Addr().String() + "/events")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			fmt.Println(line)
		}
	}
	// Output:
	// data: tick 1
	// data: tick 2
	// data: tick 3
}

// HTTPS: Config.TLS serves the same handlers over TLS.
func ExampleConfig_tls() {
	certPEM, keyPEM := selfSigned()
	tcfg, err := httpd.TLSConfigFromPEM(certPEM, keyPEM, nil)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := httpd.Start(httpd.Config{Addr: "127.0.0.1:0", TLS: tcfg})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	_ = srv.RegisterURIHandler(httpd.URIHandler{
		URI: "/hello", Method: "GET",
		Handler: func(r *httpd.Request) error {
			state, _ := r.Session().TLSState()
			return r.SendString(tls.VersionName(state.Version))
		},
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + srv.Addr().String() + "/hello")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(b))
	// Output: 200 TLS 1.3
}

// selfSigned makes a certificate for 127.0.0.1.
func selfSigned() (certPEM, keyPEM []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "evhttpd example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		log.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}
