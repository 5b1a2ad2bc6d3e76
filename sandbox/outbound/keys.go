package outbound

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/webhook"
)

// DefaultRSABits is the size of the RSA key generated on first start. GHL's
// own key has 4096 bits; 2048 keeps the first start fast (generating a
// 4096-bit key takes seconds) and signing four to eight times cheaper, and
// verifiers accept either size.
const DefaultRSABits = 2048

// Keys are the sandbox's webhook signing keys: Ed25519 for X-GHL-Signature
// and RSA for X-WH-Signature.
type Keys struct {
	Ed25519 ed25519.PrivateKey
	RSA     *rsa.PrivateKey
	// Ed25519PEM and RSAPEM are the public keys as "PUBLIC KEY" PEM blocks,
	// the form GHL's SDK reads from WEBHOOK_SIGNATURE_PUBLIC_KEY and
	// WEBHOOK_PUBLIC_KEY.
	Ed25519PEM, RSAPEM string
	CreatedAt          time.Time
}

// Signers returns the signers of every delivery: Ed25519, then RSA unless
// withRSA is false.
func (k *Keys) Signers(withRSA bool) []webhook.Signer {
	s := []webhook.Signer{webhook.Ed25519Signer{Key: k.Ed25519}}
	if withRSA {
		s = append(s, webhook.RSASigner{Key: k.RSA})
	}
	return s
}

// LoadKeys reads the signing keys from the store; ENOTFOUND when none were
// generated yet.
func LoadKeys(ctx context.Context, st sandbox.Store) (*Keys, error) {
	var stored *sandbox.SigningKeys
	err := st.Read(ctx, func(tx sandbox.Tx) error {
		var err error
		stored, err = sandbox.LoadSigningKeys(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return parseKeys(stored)
}

// EnsureKeys returns the signing keys kept in the store, generating and
// storing them first if there are none (rsaBits 0 means DefaultRSABits).
// They stay the same across restarts. Processes starting at once on one
// database agree: each generates a candidate, the first write stores its
// pair (writes are serialised, and a write finding keys stored keeps them),
// and every process then uses what is stored.
func EnsureKeys(ctx context.Context, st sandbox.Store, rsaBits int) (*Keys, error) {
	k, err := LoadKeys(ctx, st)
	if err == nil || !sandbox.IsNotFound(err) {
		return k, err
	}
	if rsaBits == 0 {
		rsaBits = DefaultRSABits
	}
	_, edPriv, err := webhook.GenerateEd25519Key()
	if err != nil {
		return nil, err
	}
	rsaPriv, err := webhook.GenerateRSAKey(rsaBits)
	if err != nil {
		return nil, err
	}
	edPEM, err := webhook.MarshalPrivateKeyPEM(edPriv)
	if err != nil {
		return nil, err
	}
	rsaPEM, err := webhook.MarshalPrivateKeyPEM(rsaPriv)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	cand := &sandbox.SigningKeys{Ed25519: string(edPEM), RSA: string(rsaPEM), CreatedAt: sandbox.Time{Time: now}}
	err = st.Write(ctx, func(tx sandbox.Tx) error {
		if _, err := tx.GetRecord(ctx, sandbox.KindSetting, sandbox.SigningKeysSetting); err == nil {
			return nil // another process stored its pair first
		} else if !sandbox.IsNotFound(err) {
			return err
		}
		return sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindSetting, ID: sandbox.SigningKeysSetting,
			Key: sandbox.SigningKeysSetting, CreatedAt: now, UpdatedAt: now}, cand)
	})
	if err != nil {
		return nil, fmt.Errorf("outbound: store signing keys: %w", err)
	}
	return LoadKeys(ctx, st)
}

func parseKeys(s *sandbox.SigningKeys) (*Keys, error) {
	ed, err := webhook.ParseEd25519PrivateKeyPEM([]byte(s.Ed25519))
	if err != nil {
		return nil, fmt.Errorf("outbound: stored ed25519 key: %w", err)
	}
	rsaKey, err := webhook.ParseRSAPrivateKeyPEM([]byte(s.RSA))
	if err != nil {
		return nil, fmt.Errorf("outbound: stored rsa key: %w", err)
	}
	rsaKey.Precompute()
	edPEM, rsaPEM, err := s.PublicKeysPEM()
	if err != nil {
		return nil, err
	}
	return &Keys{Ed25519: ed, RSA: rsaKey, Ed25519PEM: edPEM, RSAPEM: rsaPEM, CreatedAt: s.CreatedAt.Time}, nil
}
