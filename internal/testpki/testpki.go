// Package testpki makes a small certificate authority for tests of TLS
// clients: a CA, a server certificate for 127.0.0.1 and localhost and a
// client certificate it signed, and an unrelated CA, all PEM, valid for a
// day. Keys are ECDSA P-256 in SEC1 form ("EC PRIVATE KEY"), as openssl
// and RKE2 write them.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"
)

// PKI is the PEM of each certificate and key.
type PKI struct {
	CA                    []byte // the CA's certificate: it signed the server's and the client's
	ServerCert, ServerKey []byte // for 127.0.0.1 and localhost
	ClientCert, ClientKey []byte // a client-authentication certificate
	OtherCA, OtherKey     []byte // a CA that signed neither, and its key
}

// Files names the PKI's files as a directory holds them: ca.crt,
// server.crt, server.key, client.crt, client.key, client.pem (the client's
// certificate and key in one file), other-ca.crt and other.key.
func (p PKI) Files() map[string][]byte {
	return map[string][]byte{
		"ca.crt": p.CA, "server.crt": p.ServerCert, "server.key": p.ServerKey,
		"client.crt": p.ClientCert, "client.key": p.ClientKey,
		"client.pem":   append(append([]byte{}, p.ClientCert...), p.ClientKey...),
		"other-ca.crt": p.OtherCA, "other.key": p.OtherKey,
	}
}

// New makes a fresh PKI.
func New() (PKI, error) {
	var serial int64
	issue := func(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, []byte, []byte, *ecdsa.PrivateKey, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), key, nil
	}
	caTmpl := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	}
	var p PKI
	ca, caPEM, _, caKey, err := issue(caTmpl("tend test CA"), nil, nil)
	if err != nil {
		return p, err
	}
	p.CA = caPEM
	if _, p.OtherCA, p.OtherKey, _, err = issue(caTmpl("another test CA"), nil, nil); err != nil {
		return p, err
	}
	server := &x509.Certificate{Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if _, p.ServerCert, p.ServerKey, _, err = issue(server, ca, caKey); err != nil {
		return p, err
	}
	client := &x509.Certificate{Subject: pkix.Name{CommonName: "tend test client"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, p.ClientCert, p.ClientKey, _, err = issue(client, ca, caKey); err != nil {
		return p, err
	}
	return p, nil
}
