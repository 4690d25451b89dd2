package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	httpd "github.com/evhttpd/httpd"
)

// selfSignedTLS generates a self-signed ECDSA P-256 certificate for
// 127.0.0.1, ::1 and localhost, writes cert.pem and key.pem to a new
// temporary directory (so curl --cacert and browsers can trust it), and
// returns the server configuration and the directory.
func selfSignedTLS() (*tls.Config, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "evhttpd demo"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true, // self-signed: it is its own trust anchor for --cacert
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, "", err
	}
	dir, err := os.MkdirTemp("", "evhttpd-demo-tls-")
	if err != nil {
		return nil, "", err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o644); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600); err != nil {
		return nil, "", err
	}
	cfg, err := httpd.TLSConfigFromPEM(certPEM, keyPEM, nil)
	if err != nil {
		return nil, "", err
	}
	return cfg, dir, nil
}

// logHTTPSEvents logs the server events ESP's esp_https_server reports
// (HTTPS_SERVER_EVENT_*) at Debug.
func logHTTPSEvents(log *slog.Logger) func(httpd.Event) {
	return func(e httpd.Event) {
		switch e.Kind {
		case httpd.EventStart, httpd.EventStop, httpd.EventOnConnected, httpd.EventTLSHandshakeDone,
			httpd.EventDisconnected, httpd.EventError:
			log.Debug("https event", "kind", e.Kind.String(), "session", e.ID, "fd", e.Fd, "err", e.Err)
		case httpd.EventOnData, httpd.EventSentData:
			log.Debug("https event", "kind", e.Kind.String(), "session", e.ID, "len", e.Len)
		}
	}
}
