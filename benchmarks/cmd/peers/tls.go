//go:build !noevhttpd

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"time"

	httpd "github.com/evhttpd/httpd"
)

// The TLS peers serve the same GET /plaintext over HTTPS with a self-signed
// ECDSA P-256 certificate made at start: evhttpd with Config.TLS, net/http
// with crypto/tls. Load generators do not verify the certificate.
func init() {
	register("evhttpd-tls", startEvhttpdTLS)
	register("nethttp-tls", startNetHTTPTLS)
}

func selfSigned() (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, nil
}

func startEvhttpdTLS(c config) (func() error, error) {
	tc, err := selfSigned()
	if err != nil {
		return nil, err
	}
	srv, err := httpd.Start(httpd.Config{Addr: c.addr, EventLoops: c.loops, TLS: tc, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if err := srv.RegisterURIHandler(httpd.URIHandler{URI: "/plaintext", Method: "GET", Handler: evhttpdPlaintext}); err != nil {
		srv.Stop()
		return nil, err
	}
	return srv.Stop, nil
}

func startNetHTTPTLS(c config) (func() error, error) {
	tc, err := selfSigned()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return nil, err
	}
	return serveNetHTTP(tls.NewListener(ln, tc)), nil
}
