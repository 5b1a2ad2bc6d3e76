package webhook

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
)

// A Signer signs webhook bodies under one scheme, producing the header a
// [Verifier] checks. Sign exactly the bytes you send; see [Marshal].
type Signer interface {
	// HeaderName returns the name of the header the signature goes in.
	HeaderName() string
	// Signature returns the header value for body.
	Signature(body []byte) (string, error)
}

// Sign returns a header with every signer's signature of body, e.g.
// X-GHL-Signature and X-WH-Signature as GHL sends them. Signers with the same
// header name overwrite each other; the last one wins.
func Sign(body []byte, signers ...Signer) (http.Header, error) {
	h := make(http.Header, len(signers))
	for _, s := range signers {
		v, err := s.Signature(body)
		if err != nil {
			return nil, err
		}
		h.Set(s.HeaderName(), v)
	}
	return h, nil
}

// Ed25519Signer signs bodies with Ed25519 for X-GHL-Signature (base64 of the
// 64-byte signature), as GHL does.
type Ed25519Signer struct {
	Key ed25519.PrivateKey
}

// HeaderName returns [HeaderGHLSignature].
func (Ed25519Signer) HeaderName() string { return HeaderGHLSignature }

// Signature returns the base64 Ed25519 signature of body.
func (s Ed25519Signer) Signature(body []byte) (string, error) {
	if len(s.Key) != ed25519.PrivateKeySize {
		return "", errors.New("webhook: Ed25519Signer: invalid private key")
	}
	return base64.StdEncoding.EncodeToString(ed25519.Sign(s.Key, body)), nil
}

// RSASigner signs bodies with RSASSA-PKCS1-v1_5 and SHA-256 for
// X-WH-Signature (base64), as GHL does. The signature is deterministic.
type RSASigner struct {
	Key *rsa.PrivateKey
}

// HeaderName returns [HeaderWHSignature].
func (RSASigner) HeaderName() string { return HeaderWHSignature }

// Signature returns the base64 RSA signature of body.
func (s RSASigner) Signature(body []byte) (string, error) {
	if s.Key == nil {
		return "", errors.New("webhook: RSASigner: nil private key")
	}
	digest := sha256.Sum256(body)
	sig, err := rsa.SignPKCS1v15(nil, s.Key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// HMACSigner signs bodies for workflow webhooks with a shared secret:
// X-GHL-Signature: sha256=<hex HMAC-SHA256(secret, body)>.
type HMACSigner struct {
	Secret []byte
}

// HeaderName returns [HeaderGHLSignature].
func (HMACSigner) HeaderName() string { return HeaderGHLSignature }

// Signature returns [ComputeHMAC] of body.
func (s HMACSigner) Signature(body []byte) (string, error) {
	if len(s.Secret) == 0 {
		return "", errors.New("webhook: HMACSigner: empty secret")
	}
	return ComputeHMAC(s.Secret, body), nil
}
