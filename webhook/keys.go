package webhook

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// GenerateEd25519Key returns a new Ed25519 key pair for [Ed25519Signer].
func GenerateEd25519Key() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(nil)
}

// GenerateRSAKey returns a new RSA key of the given size in bits for
// [RSASigner]; GHL's key has 4096 bits. Sizes below 2048 are refused.
func GenerateRSAKey(bits int) (*rsa.PrivateKey, error) {
	if bits < 2048 {
		return nil, fmt.Errorf("webhook: RSA key size %d is below 2048 bits", bits)
	}
	return rsa.GenerateKey(nil, bits)
}

// MarshalPublicKeyPEM encodes an ed25519.PublicKey or *rsa.PublicKey as a
// "PUBLIC KEY" PEM block (SPKI), the form GHL publishes its key in.
func MarshalPublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	switch pub.(type) {
	case ed25519.PublicKey, *rsa.PublicKey:
	default:
		return nil, fmt.Errorf("webhook: unsupported public key type %T", pub)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// MarshalPrivateKeyPEM encodes an ed25519.PrivateKey or *rsa.PrivateKey as a
// "PRIVATE KEY" PEM block (PKCS #8).
func MarshalPrivateKeyPEM(priv crypto.PrivateKey) ([]byte, error) {
	switch priv.(type) {
	case ed25519.PrivateKey, *rsa.PrivateKey:
	default:
		return nil, fmt.Errorf("webhook: unsupported private key type %T", priv)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePublicKeysPEM decodes every public key in data: "PUBLIC KEY" blocks
// (SPKI) holding Ed25519 or RSA keys, and "RSA PUBLIC KEY" blocks (PKCS #1).
// Each key is an ed25519.PublicKey or a *rsa.PublicKey. Text between blocks
// is ignored; data without any block is an error.
func ParsePublicKeysPEM(data []byte) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	rest := bytes.TrimSpace(data)
	for len(rest) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var (
			k   any
			err error
		)
		switch block.Type {
		case "PUBLIC KEY":
			k, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			k, err = x509.ParsePKCS1PublicKey(block.Bytes)
		default:
			return nil, fmt.Errorf("webhook: unexpected PEM block %q, want PUBLIC KEY", block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("webhook: parse public key: %w", err)
		}
		switch k := k.(type) {
		case ed25519.PublicKey, *rsa.PublicKey:
			keys = append(keys, k)
		default:
			return nil, fmt.Errorf("webhook: unsupported public key type %T", k)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("webhook: no PEM public key found")
	}
	return keys, nil
}

// ParseEd25519PublicKeyPEM decodes a single Ed25519 "PUBLIC KEY" PEM block.
func ParseEd25519PublicKeyPEM(data []byte) (ed25519.PublicKey, error) {
	k, err := parseOnePublicKey(data)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("webhook: PEM holds a %T, want an Ed25519 public key", k)
	}
	return ek, nil
}

// ParseRSAPublicKeyPEM decodes a single RSA "PUBLIC KEY" (or "RSA PUBLIC
// KEY") PEM block, such as [GHLPublicKeyPEM].
func ParseRSAPublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	k, err := parseOnePublicKey(data)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("webhook: PEM holds a %T, want an RSA public key", k)
	}
	return rk, nil
}

func parseOnePublicKey(data []byte) (crypto.PublicKey, error) {
	keys, err := ParsePublicKeysPEM(data)
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("webhook: PEM holds %d public keys, want 1", len(keys))
	}
	return keys[0], nil
}

// ParsePrivateKeyPEM decodes a "PRIVATE KEY" PEM block (PKCS #8) holding an
// Ed25519 or RSA key, or an "RSA PRIVATE KEY" block (PKCS #1). The result is
// an ed25519.PrivateKey or a *rsa.PrivateKey.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(bytes.TrimSpace(data))
	if block == nil {
		return nil, errors.New("webhook: no PEM private key found")
	}
	var (
		k   any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("webhook: unexpected PEM block %q, want PRIVATE KEY", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("webhook: parse private key: %w", err)
	}
	switch k := k.(type) {
	case ed25519.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("webhook: unsupported private key type %T", k)
}

// ParseEd25519PrivateKeyPEM decodes an Ed25519 "PRIVATE KEY" PEM block
// (PKCS #8).
func ParseEd25519PrivateKeyPEM(data []byte) (ed25519.PrivateKey, error) {
	k, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("webhook: PEM holds a %T, want an Ed25519 private key", k)
	}
	return ek, nil
}

// ParseRSAPrivateKeyPEM decodes an RSA "PRIVATE KEY" (PKCS #8) or "RSA
// PRIVATE KEY" (PKCS #1) PEM block.
func ParseRSAPrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	k, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("webhook: PEM holds a %T, want an RSA private key", k)
	}
	return rk, nil
}
