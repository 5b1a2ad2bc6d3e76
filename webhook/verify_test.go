package webhook

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestGHLPublicKey(t *testing.T) {
	k := GHLPublicKey()
	if got := k.N.BitLen(); got != 4096 {
		t.Errorf("GHL key has %d bits, want 4096", got)
	}
	if k.E != 65537 {
		t.Errorf("GHL key exponent = %d", k.E)
	}
	v, err := NewVerifier()
	if err != nil {
		t.Fatal(err)
	}
	if len(v.rsaKeys) != 1 || !v.rsaKeys[0].Equal(k) {
		t.Error("default Verifier does not use GHL's key")
	}
	// A signature by another key must fail against GHL's key, not be
	// skipped.
	_, keys := loadVectors(t)
	body := []byte(`{}`)
	sig, _ := RSASigner{keys.rsaPriv}.Signature(body)
	if err := v.VerifySignature(header(HeaderWHSignature, sig), body); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("VerifySignature with GHL key = %v, want ErrInvalidSignature", err)
	}
}

// TestVerifySignatureOrder checks which header decides, as in GHL's SDK:
// X-GHL-Signature when the Verifier has a key for its scheme, else
// X-WH-Signature.
func TestVerifySignatureOrder(t *testing.T) {
	_, k := loadVectors(t)
	body := []byte(`{"type":"ContactCreate","id":"c1"}`)
	other := []byte(`{"type":"ContactCreate","id":"c2"}`)
	ed := func(b []byte) string { s, _ := Ed25519Signer{k.edPriv}.Signature(b); return s }
	rs := func(b []byte) string { s, _ := RSASigner{k.rsaPriv}.Signature(b); return s }
	hm := func(b []byte) string { return ComputeHMAC(k.hmacSecret, b) }

	edOnly := []VerifierOption{WithEd25519PublicKeys(k.edPub), WithRSAPublicKeys()}
	rsaOnly := []VerifierOption{WithRSAPublicKeys(k.rsaPub)}
	hmacOnly := []VerifierOption{WithHMACSecrets(k.hmacSecret), WithRSAPublicKeys()}
	all := []VerifierOption{WithEd25519PublicKeys(k.edPub), WithRSAPublicKeys(k.rsaPub), WithHMACSecrets(k.hmacSecret)}

	tests := []struct {
		name    string
		opts    []VerifierOption
		header  http.Header
		wantErr error
	}{
		{"ed25519 valid", all, header(HeaderGHLSignature, ed(body)), nil},
		{"ed25519 decides over valid rsa", all, header(HeaderGHLSignature, ed(other), HeaderWHSignature, rs(body)), ErrInvalidSignature},
		{"ed25519 valid, rsa invalid", all, header(HeaderGHLSignature, ed(body), HeaderWHSignature, rs(other)), nil},
		{"no ed25519 key: rsa decides", rsaOnly, header(HeaderGHLSignature, ed(other), HeaderWHSignature, rs(body)), nil},
		{"no ed25519 key, no rsa header", rsaOnly, header(HeaderGHLSignature, ed(body)), ErrNoSignature},
		{"rsa valid", all, header(HeaderWHSignature, rs(body)), nil},
		{"rsa invalid", all, header(HeaderWHSignature, rs(other)), ErrInvalidSignature},
		{"rsa off", edOnly, header(HeaderWHSignature, rs(body)), ErrNoSignature},
		{"hmac valid", all, header(HeaderGHLSignature, hm(body)), nil},
		{"hmac decides over valid rsa", all, header(HeaderGHLSignature, hm(other), HeaderWHSignature, rs(body)), ErrInvalidSignature},
		{"hmac only", hmacOnly, header(HeaderGHLSignature, hm(body)), nil},
		{"hmac header, no secret: rsa decides", rsaOnly, header(HeaderGHLSignature, hm(other), HeaderWHSignature, rs(body)), nil},
		{"hmac header, no secret, no rsa", rsaOnly, header(HeaderGHLSignature, hm(body)), ErrNoSignature},
		{"hmac header is not tried as ed25519", edOnly, header(HeaderGHLSignature, hm(body)), ErrNoSignature},
		{"ed25519 header is not tried as hmac", hmacOnly, header(HeaderGHLSignature, ed(body)), ErrNoSignature},
		{"no headers", all, http.Header{}, ErrNoSignature},
		{"empty headers", all, header(HeaderGHLSignature, "", HeaderWHSignature, ""), ErrNoSignature},
		{"lowercase header names", all, http.Header{"X-Ghl-Signature": {ed(body)}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			err = v.VerifySignature(tt.header, body)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("VerifySignature = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyKeyRotation(t *testing.T) {
	_, k := loadVectors(t)
	body := []byte(`{"x":1}`)
	oldEdPub, oldEdPriv, _ := GenerateEd25519Key()
	v, err := NewVerifier(
		WithEd25519PublicKeys(oldEdPub, k.edPub),
		WithRSAPublicKeys(GHLPublicKey(), k.rsaPub),
		WithHMACSecrets([]byte("old secret"), k.hmacSecret),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Signer{
		Ed25519Signer{oldEdPriv}, Ed25519Signer{k.edPriv},
		RSASigner{k.rsaPriv},
		HMACSigner{[]byte("old secret")}, HMACSigner{k.hmacSecret},
	} {
		if err := v.VerifySignature(mustSign(t, body, s), body); err != nil {
			t.Errorf("%T: %v", s, err)
		}
	}
	if err := v.VerifySignature(mustSign(t, body, HMACSigner{[]byte("unknown")}), body); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("unknown secret: %v", err)
	}
}

func TestVerifyFunctions(t *testing.T) {
	_, k := loadVectors(t)
	body := []byte(`{"a":"b"}`)
	edSig, _ := Ed25519Signer{k.edPriv}.Signature(body)
	rsaSig, _ := RSASigner{k.rsaPriv}.Signature(body)
	mac := ComputeHMAC(k.hmacSecret, body)
	macHex := strings.TrimPrefix(mac, "sha256=")

	tests := []struct {
		name string
		err  error
		want error
	}{
		{"ed25519 ok", VerifyEd25519(body, edSig, k.edPub), nil},
		{"ed25519 unpadded", VerifyEd25519(body, strings.TrimRight(edSig, "="), k.edPub), nil},
		{"ed25519 surrounding space", VerifyEd25519(body, " "+edSig+" ", k.edPub), nil},
		{"ed25519 empty", VerifyEd25519(body, "", k.edPub), ErrNoSignature},
		{"ed25519 no keys", VerifyEd25519(body, edSig), ErrNoSignature},
		{"ed25519 url alphabet", VerifyEd25519(body, strings.NewReplacer("+", "-", "/", "_").Replace(edSig), k.edPub), ErrInvalidSignature},
		{"ed25519 too short", VerifyEd25519(body, base64.StdEncoding.EncodeToString(make([]byte, 63)), k.edPub), ErrInvalidSignature},
		{"ed25519 too long", VerifyEd25519(body, base64.StdEncoding.EncodeToString(make([]byte, 65)), k.edPub), ErrInvalidSignature},
		{"ed25519 zero signature", VerifyEd25519(body, base64.StdEncoding.EncodeToString(make([]byte, 64)), k.edPub), ErrInvalidSignature},
		{"ed25519 bad key length skipped", VerifyEd25519(body, edSig, ed25519.PublicKey{1, 2, 3}), ErrInvalidSignature},
		{"rsa ok", VerifyRSA(body, rsaSig, k.rsaPub), nil},
		{"rsa empty", VerifyRSA(body, "", k.rsaPub), ErrNoSignature},
		{"rsa no keys", VerifyRSA(body, rsaSig), ErrNoSignature},
		{"rsa nil key skipped", VerifyRSA(body, rsaSig, nil), ErrInvalidSignature},
		{"rsa not base64", VerifyRSA(body, "***", k.rsaPub), ErrInvalidSignature},
		{"rsa too long", VerifyRSA(body, base64.StdEncoding.EncodeToString(make([]byte, 1025)), k.rsaPub), ErrInvalidSignature},
		{"rsa wrong length", VerifyRSA(body, base64.StdEncoding.EncodeToString(make([]byte, 256)), k.rsaPub), ErrInvalidSignature},
		{"hmac ok", VerifyHMAC(body, mac, k.hmacSecret), nil},
		{"hmac uppercase hex", VerifyHMAC(body, "sha256="+strings.ToUpper(macHex), k.hmacSecret), nil},
		{"hmac uppercase prefix", VerifyHMAC(body, "SHA256="+macHex, k.hmacSecret), nil},
		{"hmac empty", VerifyHMAC(body, "", k.hmacSecret), ErrNoSignature},
		{"hmac no secrets", VerifyHMAC(body, mac), ErrNoSignature},
		{"hmac no prefix", VerifyHMAC(body, macHex, k.hmacSecret), ErrInvalidSignature},
		{"hmac sha1 prefix", VerifyHMAC(body, "sha1="+macHex, k.hmacSecret), ErrInvalidSignature},
		{"hmac odd hex", VerifyHMAC(body, mac[:len(mac)-1], k.hmacSecret), ErrInvalidSignature},
		{"hmac too long", VerifyHMAC(body, mac+"00", k.hmacSecret), ErrInvalidSignature},
		{"hmac not hex", VerifyHMAC(body, "sha256="+strings.Repeat("g", 64), k.hmacSecret), ErrInvalidSignature},
		{"hmac base64 instead of hex", VerifyHMAC(body, "sha256="+base64.StdEncoding.EncodeToString(mustHex(t, macHex)), k.hmacSecret), ErrInvalidSignature},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) || (tt.want == nil && tt.err != nil) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.err, tt.want)
		}
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCanonicalHeaderNames(t *testing.T) {
	if textproto.CanonicalMIMEHeaderKey(HeaderGHLSignature) != canonicalGHLSignature ||
		textproto.CanonicalMIMEHeaderKey(HeaderWHSignature) != canonicalWHSignature {
		t.Error("canonical header constants are wrong")
	}
}

func TestNewVerifierErrors(t *testing.T) {
	tests := []struct {
		name string
		opts []VerifierOption
	}{
		{"no keys at all", []VerifierOption{WithRSAPublicKeys()}},
		{"short ed25519 key", []VerifierOption{WithEd25519PublicKeys(ed25519.PublicKey{1})}},
		{"nil rsa key", []VerifierOption{WithRSAPublicKeys(nil)}},
		{"rsa key without modulus", []VerifierOption{WithRSAPublicKeys(&rsa.PublicKey{})}},
		{"empty hmac secret", []VerifierOption{WithHMACSecrets(nil)}},
		{"bad PEM", []VerifierOption{WithPublicKeysPEM([]byte("not pem"))}},
		{"zero seen TTL", []VerifierOption{WithSeenTTL(0)}},
		{"nil clock", []VerifierOption{WithClock(nil)}},
	}
	for _, tt := range tests {
		if _, err := NewVerifier(tt.opts...); err == nil {
			t.Errorf("%s: NewVerifier succeeded", tt.name)
		}
	}
}

func TestWithPublicKeysPEM(t *testing.T) {
	_, k := loadVectors(t)
	edPEM, _ := MarshalPublicKeyPEM(k.edPub)
	rsaPEM, _ := MarshalPublicKeyPEM(k.rsaPub)
	bundle := append(append([]byte("keys for env var\n"), edPEM...), rsaPEM...)
	v, err := NewVerifier(WithPublicKeysPEM(bundle))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.ed25519Keys) != 1 || len(v.rsaKeys) != 1 || !v.rsaKeys[0].Equal(k.rsaPub) {
		t.Fatalf("keys = %d ed25519, %d rsa; want 1, 1 (GHL's key replaced)", len(v.ed25519Keys), len(v.rsaKeys))
	}
	v, err = NewVerifier(WithPublicKeysPEM(edPEM))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.rsaKeys) != 1 || !v.rsaKeys[0].Equal(GHLPublicKey()) {
		t.Error("an Ed25519 PEM replaced GHL's RSA key")
	}
}

// replayBody builds a body with the given raw JSON timestamp and webhookId
// values ("" leaves the field out).
func replayBody(ts, id string) []byte {
	var parts []string
	parts = append(parts, `"type":"NoteCreate"`)
	if ts != "" {
		parts = append(parts, `"timestamp":`+ts)
	}
	if id != "" {
		parts = append(parts, `"webhookId":`+id)
	}
	return []byte("{" + strings.Join(parts, ",") + "}")
}

func TestVerifyReplayGuard(t *testing.T) {
	_, k := loadVectors(t)
	iso := func(d time.Duration, layout string) string { return `"` + testNow.Add(d).UTC().Format(layout) + `"` }
	epoch := func(d time.Duration) string { return itoa(testNow.Add(d).UnixMilli()) }

	tests := []struct {
		name string
		opts []VerifierOption
		body []byte
		want error
	}{
		{"rfc3339 without millis", nil, replayBody(iso(0, time.RFC3339), `"a"`), nil},
		{"rfc3339 with millis", nil, replayBody(iso(-time.Minute, "2006-01-02T15:04:05.000Z07:00"), `"a"`), nil},
		{"rfc3339 with offset", nil, replayBody(`"2025-01-28T16:35:00+02:00"`, `"a"`), nil},
		{"rfc3339 nanos", nil, replayBody(iso(-time.Second, time.RFC3339Nano), `"a"`), nil},
		{"epoch millis", nil, replayBody(epoch(-time.Minute), `"a"`), nil},
		{"epoch millis float", nil, replayBody(epoch(-time.Minute)+".5", `"a"`), nil},
		{"at the past edge", nil, replayBody(iso(-DefaultTolerance, time.RFC3339), `"a"`), nil},
		{"just too old", nil, replayBody(iso(-DefaultTolerance-time.Second, time.RFC3339), `"a"`), ErrTooOld},
		{"a day old", nil, replayBody(iso(-24*time.Hour, time.RFC3339), `"a"`), ErrTooOld},
		{"epoch too old", nil, replayBody(epoch(-time.Hour), `"a"`), ErrTooOld},
		{"epoch seconds by mistake", nil, replayBody(itoa(testNow.Unix()), `"a"`), ErrTooOld},
		{"at the future edge", nil, replayBody(iso(DefaultTolerance, time.RFC3339), `"a"`), nil},
		{"too far in the future", nil, replayBody(iso(DefaultTolerance+time.Second, time.RFC3339), `"a"`), ErrTooOld},
		{"custom tolerance", []VerifierOption{WithTolerance(time.Hour)}, replayBody(iso(-59*time.Minute, time.RFC3339), `"a"`), nil},
		{"tolerance off", []VerifierOption{WithTolerance(0)}, replayBody(iso(-24*time.Hour, time.RFC3339), `"a"`), nil},
		{"tolerance off, no timestamp", []VerifierOption{WithTolerance(0)}, replayBody("", `"a"`), nil},
		{"missing timestamp", nil, replayBody("", `"a"`), ErrInvalidPayload},
		{"null timestamp", nil, replayBody("null", `"a"`), ErrInvalidPayload},
		{"empty timestamp", nil, replayBody(`""`, `"a"`), ErrInvalidPayload},
		{"missing timestamp allowed", []VerifierOption{WithRequireReplayFields(false)}, replayBody("", `"a"`), nil},
		{"date only", nil, replayBody(`"2025-01-28"`, `"a"`), ErrInvalidPayload},
		{"words", nil, replayBody(`"yesterday"`, `"a"`), ErrInvalidPayload},
		{"bool timestamp", nil, replayBody(`true`, `"a"`), ErrInvalidPayload},
		{"object timestamp", nil, replayBody(`{}`, `"a"`), ErrInvalidPayload},
		{"huge epoch", nil, replayBody(`1e300`, `"a"`), ErrInvalidPayload},
		{"missing webhookId", nil, replayBody(iso(0, time.RFC3339), ""), ErrInvalidPayload},
		{"empty webhookId", nil, replayBody(iso(0, time.RFC3339), `""`), ErrInvalidPayload},
		{"numeric webhookId", nil, replayBody(iso(0, time.RFC3339), `42`), ErrInvalidPayload},
		{"missing webhookId allowed", []VerifierOption{WithRequireReplayFields(false)}, replayBody(iso(0, time.RFC3339), ""), nil},
		{"missing webhookId, dedupe off", []VerifierOption{WithSeenStore(nil)}, replayBody(iso(0, time.RFC3339), ""), nil},
		{"not JSON", nil, []byte(`not json`), ErrInvalidPayload},
		{"JSON array", nil, []byte(`[1,2]`), ErrInvalidPayload},
		{"all checks off, not JSON", []VerifierOption{WithTolerance(0), WithSeenStore(nil)}, []byte(`not json`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := testVerifier(t, tt.opts...)
			err := v.Verify(context.Background(), mustSign(t, tt.body, HMACSigner{k.hmacSecret}), tt.body)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify(%s) = %v, want %v", tt.body, err, tt.want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestVerifyDuplicate(t *testing.T) {
	_, k := loadVectors(t)
	ctx := context.Background()
	clock := testNow
	v := testVerifier(t, WithClock(func() time.Time { return clock }))
	body := deliveryBody(t, EventContactCreate, testNow, "wh-dup")
	h := mustSign(t, body, Ed25519Signer{k.edPriv})

	if err := v.Verify(ctx, h, body); err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	if err := v.Verify(ctx, h, body); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second delivery = %v, want ErrDuplicate", err)
	}
	// Another body with the same webhookId is a duplicate too.
	other := deliveryBody(t, EventContactUpdate, testNow, "wh-dup")
	if err := v.Verify(ctx, mustSign(t, other, Ed25519Signer{k.edPriv}), other); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("same id, other body = %v, want ErrDuplicate", err)
	}
	if err := v.Forget(ctx, "wh-dup"); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(ctx, h, body); err != nil {
		t.Fatalf("after Forget: %v", err)
	}
	// The id is remembered for twice the tolerance; by then the timestamp
	// check rejects the delivery anyway.
	clock = testNow.Add(2*DefaultTolerance + time.Second)
	if err := v.Verify(ctx, h, body); !errors.Is(err, ErrTooOld) {
		t.Fatalf("replay after expiry = %v, want ErrTooOld", err)
	}
	// A forged delivery must not poison the store.
	forged := deliveryBody(t, EventContactCreate, clock, "wh-forged")
	if err := v.Verify(ctx, header(HeaderGHLSignature, "AAAA"), forged); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("forged = %v", err)
	}
	if err := v.Verify(ctx, mustSign(t, forged, Ed25519Signer{k.edPriv}), forged); err != nil {
		t.Fatalf("genuine after forged: %v", err)
	}
	if err := v.Forget(ctx, ""); err != nil {
		t.Fatal(err)
	}
}

func TestVerifySeenTTL(t *testing.T) {
	_, k := loadVectors(t)
	ctx := context.Background()
	store := &recordingStore{SeenStore: NewMemorySeenStore(10)}
	for _, tc := range []struct {
		opts []VerifierOption
		want time.Duration
	}{
		{nil, 2 * DefaultTolerance},
		{[]VerifierOption{WithTolerance(time.Minute)}, 2 * time.Minute},
		{[]VerifierOption{WithTolerance(0)}, 24 * time.Hour},
		{[]VerifierOption{WithSeenTTL(time.Hour)}, time.Hour},
	} {
		v := testVerifier(t, append(tc.opts, WithSeenStore(store))...)
		id := "ttl-" + tc.want.String()
		body := deliveryBody(t, EventNoteCreate, testNow, id)
		if err := v.Verify(ctx, mustSign(t, body, HMACSigner{k.hmacSecret}), body); err != nil {
			t.Fatal(err)
		}
		if store.lastTTL != tc.want {
			t.Errorf("ttl = %v, want %v", store.lastTTL, tc.want)
		}
	}
}

type recordingStore struct {
	SeenStore
	lastTTL time.Duration
}

func (s *recordingStore) Seen(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	s.lastTTL = ttl
	return s.SeenStore.Seen(ctx, id, ttl)
}

// failingStore is a SeenStore whose every call fails.
type failingStore struct{}

func (failingStore) Seen(context.Context, string, time.Duration) (bool, error) {
	return false, errors.New("database is down")
}
func (failingStore) Forget(context.Context, string) error { return errors.New("database is down") }

func TestVerifySeenStoreError(t *testing.T) {
	_, k := loadVectors(t)
	v := testVerifier(t, WithSeenStore(failingStore{}))
	body := deliveryBody(t, EventNoteCreate, testNow, "x")
	err := v.Verify(context.Background(), mustSign(t, body, HMACSigner{k.hmacSecret}), body)
	if err == nil || errors.Is(err, ErrDuplicate) || !strings.Contains(err.Error(), "database is down") {
		t.Fatalf("Verify = %v, want the store's error", err)
	}
}

func TestConstructEvent(t *testing.T) {
	_, k := loadVectors(t)
	ctx := context.Background()
	v := testVerifier(t)
	body := deliveryBody(t, EventAppInstall, testNow, "wh-install")
	ev, err := v.ConstructEvent(ctx, mustSign(t, body, RSASigner{k.rsaPriv}), body)
	if err != nil {
		t.Fatal(err)
	}
	in, ok := ev.(*AppInstall)
	if !ok {
		t.Fatalf("event is %T, want *AppInstall", ev)
	}
	if in.WireType != "INSTALL" || in.WebhookID != "wh-install" || !in.Timestamp.Equal(testNow) || in.AppID == "" {
		t.Errorf("event = %+v", in)
	}

	// A body that does not parse is rejected before its id is recorded.
	bad := []byte(`{"type":"ContactCreate","timestamp":"2025-01-28T14:35:00Z","webhookId":"wh-bad","dnd":"yes"}`)
	if _, err := v.ConstructEvent(ctx, mustSign(t, bad, HMACSigner{k.hmacSecret}), bad); !errors.Is(err, ErrInvalidPayload) {
		t.Fatalf("bad payload = %v", err)
	}
	good := []byte(`{"type":"ContactCreate","timestamp":"2025-01-28T14:35:00Z","webhookId":"wh-bad","dnd":true}`)
	if _, err := v.ConstructEvent(ctx, mustSign(t, good, HMACSigner{k.hmacSecret}), good); err != nil {
		t.Fatalf("fixed payload with the same id: %v", err)
	}
}

func TestVerifierConcurrentDuplicates(t *testing.T) {
	_, k := loadVectors(t)
	v := testVerifier(t)
	body := deliveryBody(t, EventTaskCreate, testNow, "wh-race")
	h := mustSign(t, body, HMACSigner{k.hmacSecret})
	const n = 32
	errs := make(chan error, n)
	for range n {
		go func() { errs <- v.Verify(context.Background(), h, body) }()
	}
	accepted := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			accepted++
		case !errors.Is(err, ErrDuplicate):
			t.Error(err)
		}
	}
	if accepted != 1 {
		t.Errorf("%d of %d concurrent deliveries accepted, want 1", accepted, n)
	}
}
