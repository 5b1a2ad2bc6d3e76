package webhook

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

func TestSignAndVerify(t *testing.T) {
	_, k := loadVectors(t)
	ctx := context.Background()
	body := deliveryBody(t, EventInboundMessage, testNow, "wh-sign")

	// As GHL sends app webhooks: Ed25519 and RSA together.
	h, err := Sign(body, Ed25519Signer{k.edPriv}, RSASigner{k.rsaPriv})
	if err != nil {
		t.Fatal(err)
	}
	if h.Get(HeaderGHLSignature) == "" || h.Get(HeaderWHSignature) == "" || len(h) != 2 {
		t.Fatalf("headers = %v", h)
	}
	// An Ed25519-only receiver and an RSA-only one (like older SDKs) both accept it.
	edOnly, _ := NewVerifier(WithEd25519PublicKeys(k.edPub), WithRSAPublicKeys(), WithClock(fixedClock))
	rsaOnly, _ := NewVerifier(WithRSAPublicKeys(k.rsaPub), WithClock(fixedClock))
	for _, v := range []*Verifier{edOnly, rsaOnly} {
		if err := v.Verify(ctx, h, body); err != nil {
			t.Error(err)
		}
	}

	// Workflow webhook: HMAC.
	h, err = Sign(body, HMACSigner{[]byte("s3cret")})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get(HeaderGHLSignature); !strings.HasPrefix(got, "sha256=") || len(got) != 7+64 {
		t.Errorf("HMAC header = %q", got)
	}
	v, _ := NewVerifier(WithHMACSecrets([]byte("s3cret")), WithClock(fixedClock))
	if err := v.Verify(ctx, h, body); err != nil {
		t.Error(err)
	}

	// Same header name: the last signer wins.
	h, _ = Sign(body, Ed25519Signer{k.edPriv}, HMACSigner{[]byte("s3cret")})
	if !strings.HasPrefix(h.Get(HeaderGHLSignature), "sha256=") {
		t.Error("last signer did not win")
	}
}

func TestSignerErrors(t *testing.T) {
	for _, s := range []Signer{Ed25519Signer{}, Ed25519Signer{Key: make(ed25519.PrivateKey, 10)}, RSASigner{}, HMACSigner{}} {
		if _, err := s.Signature([]byte("x")); err == nil {
			t.Errorf("%T with no key signed", s)
		}
		if _, err := Sign([]byte("x"), s); err == nil {
			t.Errorf("Sign with %T succeeded", s)
		}
	}
	if (Ed25519Signer{}).HeaderName() != HeaderGHLSignature || (RSASigner{}).HeaderName() != HeaderWHSignature || (HMACSigner{}).HeaderName() != HeaderGHLSignature {
		t.Error("header names")
	}
}

func TestKeysPEMRoundTrip(t *testing.T) {
	edPub, edPriv, err := GenerateEd25519Key()
	if err != nil {
		t.Fatal(err)
	}
	_, k := loadVectors(t) // a 4096-bit RSA key, to spare generating one

	pubPEM, err := MarshalPublicKeyPEM(edPub)
	if err != nil || !strings.HasPrefix(string(pubPEM), "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("MarshalPublicKeyPEM(ed25519) = %s, %v", pubPEM, err)
	}
	gotEdPub, err := ParseEd25519PublicKeyPEM(pubPEM)
	if err != nil || !gotEdPub.Equal(edPub) {
		t.Errorf("ParseEd25519PublicKeyPEM: %v", err)
	}
	privPEM, err := MarshalPrivateKeyPEM(edPriv)
	if err != nil || !strings.HasPrefix(string(privPEM), "-----BEGIN PRIVATE KEY-----") {
		t.Fatalf("MarshalPrivateKeyPEM(ed25519) = %s, %v", privPEM, err)
	}
	gotEdPriv, err := ParseEd25519PrivateKeyPEM(privPEM)
	if err != nil || !gotEdPriv.Equal(edPriv) {
		t.Errorf("ParseEd25519PrivateKeyPEM: %v", err)
	}

	rsaPubPEM, err := MarshalPublicKeyPEM(k.rsaPub)
	if err != nil {
		t.Fatal(err)
	}
	gotRSAPub, err := ParseRSAPublicKeyPEM(rsaPubPEM)
	if err != nil || !gotRSAPub.Equal(k.rsaPub) {
		t.Errorf("ParseRSAPublicKeyPEM: %v", err)
	}
	rsaPrivPEM, err := MarshalPrivateKeyPEM(k.rsaPriv)
	if err != nil {
		t.Fatal(err)
	}
	gotRSAPriv, err := ParseRSAPrivateKeyPEM(rsaPrivPEM)
	if err != nil || !gotRSAPriv.Equal(k.rsaPriv) {
		t.Errorf("ParseRSAPrivateKeyPEM: %v", err)
	}
	// PKCS #1 forms are read too.
	pkcs1Pub := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(k.rsaPub)})
	if got, err := ParseRSAPublicKeyPEM(pkcs1Pub); err != nil || !got.Equal(k.rsaPub) {
		t.Errorf("PKCS #1 public key: %v", err)
	}
	pkcs1Priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.rsaPriv)})
	if got, err := ParseRSAPrivateKeyPEM(pkcs1Priv); err != nil || !got.Equal(k.rsaPriv) {
		t.Errorf("PKCS #1 private key: %v", err)
	}

	// Both public keys in one bundle.
	keys, err := ParsePublicKeysPEM(append(append([]byte{}, pubPEM...), rsaPubPEM...))
	if err != nil || len(keys) != 2 {
		t.Fatalf("ParsePublicKeysPEM = %d keys, %v", len(keys), err)
	}
	if _, ok := keys[0].(ed25519.PublicKey); !ok {
		t.Errorf("key 0 is %T", keys[0])
	}
	if _, ok := keys[1].(*rsa.PublicKey); !ok {
		t.Errorf("key 1 is %T", keys[1])
	}
}

func TestKeyErrors(t *testing.T) {
	_, k := loadVectors(t)
	edPub, edPriv, _ := GenerateEd25519Key()
	edPubPEM, _ := MarshalPublicKeyPEM(edPub)
	edPrivPEM, _ := MarshalPrivateKeyPEM(edPriv)
	rsaPubPEM, _ := MarshalPublicKeyPEM(k.rsaPub)
	rsaPrivPEM, _ := MarshalPrivateKeyPEM(k.rsaPriv)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})
	ecPrivDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPrivPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecPrivDER})
	garbage := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("garbage")})
	bundle := append(append([]byte{}, edPubPEM...), rsaPubPEM...)

	errs := map[string]error{}
	_, errs["public: empty"] = ParsePublicKeysPEM(nil)
	_, errs["public: no PEM"] = ParsePublicKeysPEM([]byte("hello"))
	_, errs["public: private block"] = ParsePublicKeysPEM(edPrivPEM)
	_, errs["public: garbage DER"] = ParsePublicKeysPEM(garbage)
	_, errs["public: ECDSA"] = ParsePublicKeysPEM(ecPubPEM)
	_, errs["ed25519 public: RSA key"] = ParseEd25519PublicKeyPEM(rsaPubPEM)
	_, errs["ed25519 public: two keys"] = ParseEd25519PublicKeyPEM(bundle)
	_, errs["rsa public: Ed25519 key"] = ParseRSAPublicKeyPEM(edPubPEM)
	_, errs["private: no PEM"] = ParsePrivateKeyPEM([]byte("hello"))
	_, errs["private: public block"] = ParsePrivateKeyPEM(edPubPEM)
	_, errs["private: garbage"] = ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("x")}))
	_, errs["private: ECDSA"] = ParsePrivateKeyPEM(ecPrivPEM)
	_, errs["ed25519 private: RSA key"] = ParseEd25519PrivateKeyPEM(rsaPrivPEM)
	_, errs["rsa private: Ed25519 key"] = ParseRSAPrivateKeyPEM(edPrivPEM)
	_, errs["rsa private: no PEM"] = ParseRSAPrivateKeyPEM(nil)
	_, errs["ed25519 private: no PEM"] = ParseEd25519PrivateKeyPEM(nil)
	_, errs["marshal public: ECDSA"] = MarshalPublicKeyPEM(&ec.PublicKey)
	_, errs["marshal private: ECDSA"] = MarshalPrivateKeyPEM(ec)
	_, errs["generate: small RSA"] = GenerateRSAKey(1024)
	for name, err := range errs {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
