package webhook

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Header names of the signatures GHL sends.
const (
	// HeaderGHLSignature carries an Ed25519 signature (base64) or, for
	// workflow webhooks with a shared secret, "sha256=" and a hex HMAC-SHA256.
	HeaderGHLSignature = "X-GHL-Signature"
	// HeaderWHSignature carries the legacy RSA-SHA256 PKCS #1 v1.5 signature
	// (base64).
	HeaderWHSignature = "X-WH-Signature"
)

// hmacPrefix marks the HMAC scheme in X-GHL-Signature. It tells the scheme
// apart from a base64 Ed25519 signature, where '=' can only be padding at the
// end.
const hmacPrefix = "sha256="

// DefaultTolerance is how far a delivery's timestamp may be from the current
// time, in either direction, before the delivery is rejected with [ErrTooOld].
// GHL's docs suggest five minutes.
const DefaultTolerance = 5 * time.Minute

// Errors returned by verification; test for them with [errors.Is]. The
// returned errors wrap these with detail.
var (
	// ErrNoSignature means the request carries no signature that the
	// Verifier has a key or secret for.
	ErrNoSignature = errors.New("webhook: no verifiable signature")
	// ErrInvalidSignature means a signature was present but does not match
	// the body under any configured key or secret.
	ErrInvalidSignature = errors.New("webhook: invalid signature")
	// ErrTooOld means the body's timestamp is outside the tolerance: too old
	// (a possible replay) or too far in the future.
	ErrTooOld = errors.New("webhook: timestamp outside tolerance")
	// ErrDuplicate means the body's webhookId has been seen before: a
	// redelivery or a replay.
	ErrDuplicate = errors.New("webhook: duplicate webhookId")
	// ErrInvalidPayload means the body is not a JSON object, lacks a field
	// the replay guard needs, or does not match its event's documented types.
	ErrInvalidPayload = errors.New("webhook: invalid payload")
)

// GHLPublicKeyPEM is the RSA public key (4096-bit, SPKI) that GHL publishes
// for verifying X-WH-Signature, from docs/oauth/WebhookAuthentication.md of
// GoHighLevel/highlevel-api-docs. GHL announces rotations by email and in
// its developer Slack; pass the new key with [WithRSAPublicKeys].
const GHLPublicKeyPEM = `-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAokvo/r9tVgcfZ5DysOSC
Frm602qYV0MaAiNnX9O8KxMbiyRKWeL9JpCpVpt4XHIcBOK4u3cLSqJGOLaPuXw6
dO0t6Q/ZVdAV5Phz+ZtzPL16iCGeK9po6D6JHBpbi989mmzMryUnQJezlYJ3DVfB
csedpinheNnyYeFXolrJvcsjDtfAeRx5ByHQmTnSdFUzuAnC9/GepgLT9SM4nCpv
uxmZMxrJt5Rw+VUaQ9B8JSvbMPpez4peKaJPZHBbU3OdeCVx5klVXXZQGNHOs8gF
3kvoV5rTnXV0IknLBXlcKKAQLZcY/Q9rG6Ifi9c+5vqlvHPCUJFT5XUGG5RKgOKU
J062fRtN+rLYZUV+BjafxQauvC8wSWeYja63VSUruvmNj8xkx2zE/Juc+yjLjTXp
IocmaiFeAO6fUtNjDeFVkhf5LNb59vECyrHD2SQIrhgXpO4Q3dVNA5rw576PwTzN
h/AMfHKIjE4xQA1SZuYJmNnmVZLIZBlQAF9Ntd03rfadZ+yDiOXCCs9FkHibELhC
HULgCsnuDJHcrGNd5/Ddm5hxGQ0ASitgHeMZ0kcIOwKDOzOU53lDza6/Y09T7sYJ
PQe7z0cvj7aE4B+Ax1ZoZGPzpJlZtGXCsu9aTEGEnKzmsFqwcSsnw3JB31IGKAyk
T1hhTiaCeIY/OwwwNUY2yvcCAwEAAQ==
-----END PUBLIC KEY-----
`

// GHLPublicKey returns [GHLPublicKeyPEM] parsed.
func GHLPublicKey() *rsa.PublicKey {
	k, err := ParseRSAPublicKeyPEM([]byte(GHLPublicKeyPEM))
	if err != nil {
		panic("webhook: GHLPublicKeyPEM does not parse: " + err.Error()) // a constant; tests cover it
	}
	return k
}

// VerifyEd25519 reports whether sigHeader, the value of an X-GHL-Signature
// header (a base64 Ed25519 signature), is a signature of body by one of keys.
// It returns nil, or an error wrapping [ErrNoSignature] (empty header or no
// keys) or [ErrInvalidSignature].
func VerifyEd25519(body []byte, sigHeader string, keys ...ed25519.PublicKey) error {
	sigHeader = strings.TrimSpace(sigHeader)
	if sigHeader == "" {
		return fmt.Errorf("%w: empty %s", ErrNoSignature, HeaderGHLSignature)
	}
	if len(keys) == 0 {
		return fmt.Errorf("%w: no Ed25519 public key configured", ErrNoSignature)
	}
	var sig [ed25519.SignatureSize]byte
	if n, err := decodeBase64(sig[:], sigHeader); err != nil || n != len(sig) {
		return fmt.Errorf("%w: %s is not a base64 Ed25519 signature", ErrInvalidSignature, HeaderGHLSignature)
	}
	for _, k := range keys {
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, body, sig[:]) {
			return nil
		}
	}
	return fmt.Errorf("%w: Ed25519 signature does not match", ErrInvalidSignature)
}

// VerifyRSA reports whether sigHeader, the value of an X-WH-Signature header
// (base64), is an RSASSA-PKCS1-v1_5 SHA-256 signature of body by one of keys.
// It returns nil, or an error wrapping [ErrNoSignature] (empty header or no
// keys) or [ErrInvalidSignature].
func VerifyRSA(body []byte, sigHeader string, keys ...*rsa.PublicKey) error {
	sigHeader = strings.TrimSpace(sigHeader)
	if sigHeader == "" {
		return fmt.Errorf("%w: empty %s", ErrNoSignature, HeaderWHSignature)
	}
	if len(keys) == 0 {
		return fmt.Errorf("%w: no RSA public key configured", ErrNoSignature)
	}
	// 1024 bytes is an 8192-bit signature; GHL's key is 4096-bit.
	var buf [1024]byte
	n, err := decodeBase64(buf[:], sigHeader)
	if err != nil || n == 0 {
		return fmt.Errorf("%w: %s is not a base64 RSA signature", ErrInvalidSignature, HeaderWHSignature)
	}
	digest := sha256.Sum256(body)
	for _, k := range keys {
		if k != nil && rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], buf[:n]) == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: RSA signature does not match", ErrInvalidSignature)
}

// VerifyHMAC reports whether sigHeader, the value of an X-GHL-Signature
// header of the form "sha256=<hex>", is the HMAC-SHA256 of body under one of
// secrets. The comparison takes constant time. It returns nil, or an error
// wrapping [ErrNoSignature] (empty header or no secrets) or
// [ErrInvalidSignature].
func VerifyHMAC(body []byte, sigHeader string, secrets ...[]byte) error {
	sigHeader = strings.TrimSpace(sigHeader)
	if sigHeader == "" {
		return fmt.Errorf("%w: empty %s", ErrNoSignature, HeaderGHLSignature)
	}
	if len(secrets) == 0 {
		return fmt.Errorf("%w: no HMAC secret configured", ErrNoSignature)
	}
	hexSig, ok := cutPrefixFold(sigHeader, hmacPrefix)
	if !ok {
		return fmt.Errorf("%w: %s does not start with %q", ErrInvalidSignature, HeaderGHLSignature, hmacPrefix)
	}
	var got [sha256.Size]byte
	if len(hexSig) != 2*len(got) {
		return fmt.Errorf("%w: HMAC is not 64 hex digits", ErrInvalidSignature)
	}
	if _, err := hex.Decode(got[:], []byte(hexSig)); err != nil {
		return fmt.Errorf("%w: HMAC is not hex", ErrInvalidSignature)
	}
	match := false
	for _, s := range secrets {
		m := hmac.New(sha256.New, s)
		m.Write(body)
		// Check every secret, so that timing does not tell which one matched.
		if hmac.Equal(m.Sum(nil), got[:]) {
			match = true
		}
	}
	if !match {
		return fmt.Errorf("%w: HMAC does not match", ErrInvalidSignature)
	}
	return nil
}

// ComputeHMAC returns the X-GHL-Signature value of body under the HMAC
// scheme: "sha256=" and the lowercase hex HMAC-SHA256 of body keyed by secret.
func ComputeHMAC(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmacPrefix + hex.EncodeToString(m.Sum(nil))
}

// Canonical forms (textproto.CanonicalMIMEHeaderKey) of the header names,
// to look them up without allocating.
const (
	canonicalGHLSignature = "X-Ghl-Signature"
	canonicalWHSignature  = "X-Wh-Signature"
)

// headerValue returns the first value of the header with the given
// canonical name. Unlike http.Header.Get it also finds keys that are not in
// canonical form, as in http.Header{"X-GHL-Signature": …} built by hand.
func headerValue(h http.Header, canonicalName string) string {
	if vs := h[canonicalName]; len(vs) > 0 && vs[0] != "" {
		return vs[0]
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, canonicalName) {
			return vs[0]
		}
	}
	return ""
}

func isHMACHeader(v string) bool {
	_, ok := cutPrefixFold(strings.TrimSpace(v), hmacPrefix)
	return ok
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// decodeBase64 decodes standard base64, with or without padding, into dst
// and returns the number of bytes written; input that would not fit is an
// error.
func decodeBase64(dst []byte, s string) (int, error) {
	s = strings.TrimRight(s, "=")
	if base64.RawStdEncoding.DecodedLen(len(s)) > len(dst) {
		return 0, errors.New("too long")
	}
	return base64.RawStdEncoding.Decode(dst, []byte(s))
}

// A Verifier checks webhook deliveries: the signature over the raw body,
// then the replay guard (timestamp within tolerance, webhookId not seen
// before). Create one with [NewVerifier]; it is safe for concurrent use.
//
// Which signature decides follows GHL's official SDK: if X-GHL-Signature is
// present and the Verifier has a key for its scheme (Ed25519, or an HMAC
// secret when the value starts with "sha256="), that signature alone decides;
// otherwise X-WH-Signature is checked with the RSA keys. A failed check is
// final: the other header is not tried. Unlike the SDK, which lets unsigned
// requests through marked as unverified, a request without a verifiable
// signature fails with [ErrNoSignature].
type Verifier struct {
	ed25519Keys []ed25519.PublicKey
	rsaKeys     []*rsa.PublicKey
	hmacSecrets [][]byte

	tolerance      time.Duration
	seen           SeenStore
	seenTTL        time.Duration
	requireReplay  bool
	now            func() time.Time
	rsaKeysChanged bool
}

// A VerifierOption configures a [Verifier].
type VerifierOption func(*Verifier) error

// NewVerifier returns a Verifier. Without options it verifies X-WH-Signature
// with GHL's published RSA key ([GHLPublicKeyPEM]), rejects timestamps more
// than [DefaultTolerance] away, and remembers webhookIds in a
// [MemorySeenStore] of [DefaultMemorySeenStoreSize] entries.
func NewVerifier(opts ...VerifierOption) (*Verifier, error) {
	v := &Verifier{
		rsaKeys:       []*rsa.PublicKey{GHLPublicKey()},
		tolerance:     DefaultTolerance,
		requireReplay: true,
		now:           time.Now,
	}
	v.seen = NewMemorySeenStore(DefaultMemorySeenStoreSize, WithMemoryClock(func() time.Time { return v.now() }))
	for _, o := range opts {
		if err := o(v); err != nil {
			return nil, err
		}
	}
	if len(v.ed25519Keys)+len(v.rsaKeys)+len(v.hmacSecrets) == 0 {
		return nil, errors.New("webhook: NewVerifier: no key or secret configured")
	}
	return v, nil
}

// WithEd25519PublicKeys adds Ed25519 public keys for X-GHL-Signature. Any of
// them may have signed a delivery, which allows key rotation. GHL does not
// publish its Ed25519 key in its docs; its SDK reads it from the environment
// variable WEBHOOK_SIGNATURE_PUBLIC_KEY (PEM), see [WithPublicKeysPEM].
func WithEd25519PublicKeys(keys ...ed25519.PublicKey) VerifierOption {
	return func(v *Verifier) error {
		for _, k := range keys {
			if len(k) != ed25519.PublicKeySize {
				return fmt.Errorf("webhook: Ed25519 public key has %d bytes, want %d", len(k), ed25519.PublicKeySize)
			}
			v.ed25519Keys = append(v.ed25519Keys, k)
		}
		return nil
	}
}

// WithRSAPublicKeys sets the RSA public keys for X-WH-Signature, any of which
// may have signed a delivery. The first RSA key configured (by this option or
// [WithPublicKeysPEM]) replaces GHL's built-in key; to keep it alongside
// another, pass [GHLPublicKey] too. WithRSAPublicKeys() with no keys turns RSA
// verification off.
func WithRSAPublicKeys(keys ...*rsa.PublicKey) VerifierOption {
	return func(v *Verifier) error {
		for _, k := range keys {
			if k == nil || k.N == nil {
				return errors.New("webhook: nil RSA public key")
			}
		}
		v.addRSA(keys...)
		return nil
	}
}

func (v *Verifier) addRSA(keys ...*rsa.PublicKey) {
	if !v.rsaKeysChanged {
		v.rsaKeys, v.rsaKeysChanged = nil, true
	}
	v.rsaKeys = append(v.rsaKeys, keys...)
}

// WithPublicKeysPEM adds the public keys in PEM data (one or more "PUBLIC
// KEY" blocks, SPKI): Ed25519 keys for X-GHL-Signature and RSA keys for
// X-WH-Signature, as for [WithEd25519PublicKeys] and [WithRSAPublicKeys].
func WithPublicKeysPEM(data []byte) VerifierOption {
	return func(v *Verifier) error {
		keys, err := ParsePublicKeysPEM(data)
		if err != nil {
			return err
		}
		for _, k := range keys {
			switch k := k.(type) {
			case ed25519.PublicKey:
				v.ed25519Keys = append(v.ed25519Keys, k)
			case *rsa.PublicKey:
				v.addRSA(k)
			}
		}
		return nil
	}
}

// WithHMACSecrets adds shared secrets for workflow webhooks signed as
// "X-GHL-Signature: sha256=<hex HMAC-SHA256(secret, body)>". Any of them may
// have signed a delivery, which allows rotation.
func WithHMACSecrets(secrets ...[]byte) VerifierOption {
	return func(v *Verifier) error {
		for _, s := range secrets {
			if len(s) == 0 {
				return errors.New("webhook: empty HMAC secret")
			}
			v.hmacSecrets = append(v.hmacSecrets, bytesClone(s))
		}
		return nil
	}
}

// WithTolerance sets how far the body's timestamp may be from now, in either
// direction; d <= 0 turns the timestamp check off. The default is
// [DefaultTolerance].
func WithTolerance(d time.Duration) VerifierOption {
	return func(v *Verifier) error {
		v.tolerance = max(d, 0)
		return nil
	}
}

// WithSeenStore sets where webhookIds are remembered to reject duplicates;
// nil turns duplicate detection off. With several processes behind a load
// balancer, use a shared store such as [SQLSeenStore].
func WithSeenStore(s SeenStore) VerifierOption {
	return func(v *Verifier) error {
		v.seen = s
		return nil
	}
}

// WithSeenTTL sets how long a webhookId is remembered. The default is twice
// the tolerance (a delivery older than the tolerance is rejected anyway), or
// 24 hours when the timestamp check is off.
func WithSeenTTL(d time.Duration) VerifierOption {
	return func(v *Verifier) error {
		if d <= 0 {
			return errors.New("webhook: WithSeenTTL: TTL must be positive")
		}
		v.seenTTL = d
		return nil
	}
}

// WithRequireReplayFields sets whether a body without "timestamp" (when the
// timestamp check is on) or without "webhookId" (when duplicate detection is
// on) is rejected with [ErrInvalidPayload]. The default is true: GHL puts
// both in every delivery. Turn it off for workflow webhooks whose body is a
// user-written template; such bodies cannot be protected against replay.
func WithRequireReplayFields(required bool) VerifierOption {
	return func(v *Verifier) error {
		v.requireReplay = required
		return nil
	}
}

// WithClock sets the function the Verifier reads the current time from;
// tests use it.
func WithClock(now func() time.Time) VerifierOption {
	return func(v *Verifier) error {
		if now == nil {
			return errors.New("webhook: WithClock: nil clock")
		}
		v.now = now
		return nil
	}
}

// VerifySignature checks the signature headers of a delivery against its raw
// body, without the replay guard. It returns nil or an error wrapping
// [ErrNoSignature] or [ErrInvalidSignature].
func (v *Verifier) VerifySignature(header http.Header, body []byte) error {
	ghl := headerValue(header, canonicalGHLSignature)
	wh := headerValue(header, canonicalWHSignature)
	if ghl != "" {
		if isHMACHeader(ghl) {
			if len(v.hmacSecrets) > 0 {
				return VerifyHMAC(body, ghl, v.hmacSecrets...)
			}
		} else if len(v.ed25519Keys) > 0 {
			return VerifyEd25519(body, ghl, v.ed25519Keys...)
		}
	}
	if wh != "" && len(v.rsaKeys) > 0 {
		return VerifyRSA(body, wh, v.rsaKeys...)
	}
	switch {
	case ghl != "" && isHMACHeader(ghl):
		return fmt.Errorf("%w: %s is an HMAC but no HMAC secret is configured", ErrNoSignature, HeaderGHLSignature)
	case ghl != "":
		return fmt.Errorf("%w: %s is Ed25519 but no Ed25519 public key is configured", ErrNoSignature, HeaderGHLSignature)
	case wh != "":
		return fmt.Errorf("%w: %s present but no RSA public key is configured", ErrNoSignature, HeaderWHSignature)
	}
	return fmt.Errorf("%w: neither %s nor %s present", ErrNoSignature, HeaderGHLSignature, HeaderWHSignature)
}

// Verify checks a delivery: its signature ([Verifier.VerifySignature]), its
// timestamp, and that its webhookId was not seen before. The webhookId is
// recorded as seen; if processing the delivery then fails and the sender
// should be able to redeliver it, call [Verifier.Forget].
//
// Errors wrap [ErrNoSignature], [ErrInvalidSignature], [ErrInvalidPayload],
// [ErrTooOld] or [ErrDuplicate]; an error of the [SeenStore] is returned
// wrapped, and is none of these.
func (v *Verifier) Verify(ctx context.Context, header http.Header, body []byte) error {
	_, err := v.check(ctx, header, body, false)
	return err
}

// ConstructEvent verifies a delivery like [Verifier.Verify] and returns it
// parsed, like [Parse]. The webhookId is recorded only once the body has
// parsed.
func (v *Verifier) ConstructEvent(ctx context.Context, header http.Header, body []byte) (Event, error) {
	return v.check(ctx, header, body, true)
}

// Forget removes webhookID from the seen store, so that a redelivery of it
// is accepted. It does nothing when duplicate detection is off or the ID is
// empty.
func (v *Verifier) Forget(ctx context.Context, webhookID string) error {
	if v.seen == nil || webhookID == "" {
		return nil
	}
	return v.seen.Forget(ctx, webhookID)
}

func (v *Verifier) check(ctx context.Context, header http.Header, body []byte, parse bool) (Event, error) {
	if err := v.VerifySignature(header, body); err != nil {
		return nil, err
	}
	id, err := v.checkReplayFields(body)
	if err != nil {
		return nil, err
	}
	var ev Event
	if parse {
		if ev, err = Parse(body); err != nil {
			return nil, err
		}
	}
	if err := v.markSeen(ctx, id); err != nil {
		return nil, err
	}
	return ev, nil
}

// replayFields are the body fields the replay guard reads.
type replayFields struct {
	Timestamp json.RawMessage `json:"timestamp"`
	WebhookID json.RawMessage `json:"webhookId"`
}

// checkReplayFields checks the body's timestamp and returns its webhookId.
func (v *Verifier) checkReplayFields(body []byte) (webhookID string, err error) {
	if v.tolerance == 0 && v.seen == nil {
		return "", nil
	}
	var f replayFields
	if err := json.Unmarshal(body, &f); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPayload, err)
	}
	if len(f.WebhookID) > 0 && string(f.WebhookID) != "null" {
		if err := json.Unmarshal(f.WebhookID, &webhookID); err != nil {
			return "", fmt.Errorf("%w: webhookId is not a string", ErrInvalidPayload)
		}
	}
	if v.tolerance > 0 {
		ts, err := parseTimestamp(f.Timestamp)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalidPayload, err)
		}
		switch now := v.now(); {
		case ts.IsZero():
			if v.requireReplay {
				return "", fmt.Errorf("%w: no timestamp", ErrInvalidPayload)
			}
		case ts.Before(now.Add(-v.tolerance)):
			return "", fmt.Errorf("%w: timestamp %s is %s old, tolerance %s", ErrTooOld, ts.Format(time.RFC3339Nano), now.Sub(ts).Round(time.Second), v.tolerance)
		case ts.After(now.Add(v.tolerance)):
			return "", fmt.Errorf("%w: timestamp %s is %s in the future, tolerance %s", ErrTooOld, ts.Format(time.RFC3339Nano), ts.Sub(now).Round(time.Second), v.tolerance)
		}
	}
	if v.seen != nil && webhookID == "" && v.requireReplay {
		return "", fmt.Errorf("%w: no webhookId", ErrInvalidPayload)
	}
	return webhookID, nil
}

func (v *Verifier) markSeen(ctx context.Context, webhookID string) error {
	if v.seen == nil || webhookID == "" {
		return nil
	}
	ttl := v.seenTTL
	if ttl == 0 {
		ttl = 24 * time.Hour
		if v.tolerance > 0 {
			ttl = 2 * v.tolerance
		}
	}
	dup, err := v.seen.Seen(ctx, webhookID, ttl)
	if err != nil {
		return fmt.Errorf("webhook: seen store: %w", err)
	}
	if dup {
		return fmt.Errorf("%w: %q", ErrDuplicate, webhookID)
	}
	return nil
}

func bytesClone(b []byte) []byte { return append([]byte(nil), b...) }
