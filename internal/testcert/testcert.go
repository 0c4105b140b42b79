// Package testcert makes throw-away TLS certificates for tests.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// Pair makes a self-signed ECDSA P-256 certificate for localhost,
// 127.0.0.1 and ::1, valid for 30 days, with the given serial (so that
// tests can tell one certificate from another), and its PKCS #8 key, both
// as PEM.
func Pair(t testing.TB, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	return PairUntil(t, serial, time.Now().Add(30*24*time.Hour))
}

// PairUntil is Pair with the certificate valid until notAfter (in the
// past for an expired one) and from a day before it at the latest.
func PairUntil(t testing.TB, serial int64, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	notBefore := time.Now().Add(-time.Hour)
	if dayBefore := notAfter.Add(-24 * time.Hour); dayBefore.Before(notBefore) {
		notBefore = dayBefore
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: "palisade test"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}
