package webhook

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// Seed corpora: the f.Add calls below, plus testdata/fuzz/<FuzzName>/.

func addVectorSeeds(f *testing.F, pick func(signatureVector) string) {
	vf, _ := loadVectors(f)
	for _, v := range vf.Signatures {
		f.Add([]byte(v.Body), pick(v))
	}
	for _, r := range vf.Rejections {
		for _, h := range r.Headers {
			f.Add([]byte(r.Body), h)
		}
	}
}

// isVerifyError reports whether err is one of the errors verification may
// return.
func isVerifyError(err error) bool {
	return errors.Is(err, ErrNoSignature) || errors.Is(err, ErrInvalidSignature)
}

func FuzzVerifyEd25519(f *testing.F) {
	addVectorSeeds(f, func(v signatureVector) string { return v.Ed25519 })
	_, k := loadVectors(f)
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		err := VerifyEd25519(body, sig, k.edPub)
		if err != nil {
			if !isVerifyError(err) {
				t.Fatalf("unexpected error %v", err)
			}
		} else {
			// Ed25519 is deterministic and Go rejects malleable
			// signatures: only the one true signature verifies.
			var got [ed25519.SignatureSize]byte
			decodeBase64(got[:], strings.TrimSpace(sig))
			if !bytes.Equal(got[:], ed25519.Sign(k.edPriv, body)) {
				t.Fatalf("accepted a signature that is not the signature of the body: %q", sig)
			}
		}
		good, _ := Ed25519Signer{k.edPriv}.Signature(body)
		if err := VerifyEd25519(body, good, k.edPub); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
	})
}

func FuzzVerifyRSA(f *testing.F) {
	addVectorSeeds(f, func(v signatureVector) string { return v.RSA })
	_, k := loadVectors(f)
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		err := VerifyRSA(body, sig, k.rsaPub)
		if err != nil {
			if !isVerifyError(err) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// PKCS #1 v1.5 signatures are unique: only the true one verifies.
		want, _ := RSASigner{k.rsaPriv}.Signature(body)
		var a, b [1024]byte
		na, _ := decodeBase64(a[:], strings.TrimSpace(sig))
		nb, _ := decodeBase64(b[:], want)
		if !bytes.Equal(a[:na], b[:nb]) {
			t.Fatalf("accepted a signature that is not the signature of the body: %q", sig)
		}
	})
}

func FuzzVerifyHMAC(f *testing.F) {
	addVectorSeeds(f, func(v signatureVector) string { return v.HMAC })
	_, k := loadVectors(f)
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		err := VerifyHMAC(body, sig, k.hmacSecret)
		want := ComputeHMAC(k.hmacSecret, body)
		s := strings.TrimSpace(sig)
		matches := len(s) == len(want) && strings.EqualFold(s, want)
		if (err == nil) != matches {
			t.Fatalf("VerifyHMAC(%q) = %v; matches the true HMAC: %v", sig, err, matches)
		}
		if err != nil && !isVerifyError(err) {
			t.Fatalf("unexpected error %v", err)
		}
		if matches {
			got, _ := hex.DecodeString(s[len("sha256="):])
			wantRaw, _ := hex.DecodeString(want[len("sha256="):])
			if !hmac.Equal(got, wantRaw) {
				t.Fatal("inconsistent")
			}
		}
		if err := VerifyHMAC(body, want, k.hmacSecret); err != nil {
			t.Fatalf("own HMAC rejected: %v", err)
		}
	})
}

// FuzzVerifySignature feeds arbitrary header values to a Verifier with all
// three schemes configured.
func FuzzVerifySignature(f *testing.F) {
	vf, _ := loadVectors(f)
	for _, v := range vf.Signatures {
		f.Add([]byte(v.Body), v.Ed25519, v.RSA)
		f.Add([]byte(v.Body), v.HMAC, "")
		f.Add([]byte(v.Body), "", v.RSA)
	}
	v := testVerifier(f, WithTolerance(0), WithSeenStore(nil))
	f.Fuzz(func(t *testing.T, body []byte, ghl, wh string) {
		h := http.Header{}
		h.Set(HeaderGHLSignature, ghl)
		h.Set(HeaderWHSignature, wh)
		if err := v.VerifySignature(h, body); err != nil && !isVerifyError(err) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, name := range EventNames() {
		f.Add(SamplePayload(name))
	}
	for _, s := range []string{
		`{}`, `{"type":"Unknown"}`, `{"type":"INSTALL","timestamp":1738074900000}`,
		`{"type":"ContactCreate","customFields":[{"id":"x","value":[1,{"a":null}]}]}`,
		`{"type":"InboundMessage","to":["a@b.c"],"timestamp":"2025-01-28T14:35:00.123456Z"}`,
		`{"type":"SMS","emailTo":"x","attachments":["\u2028"]}`,
		`{"type":"PriceDelete","trackInventory":null,"amount":1e3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := Parse(body)
		if err != nil {
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("Parse error %v does not wrap ErrInvalidPayload", err)
			}
			return
		}
		if e == nil || e.EventMeta() == nil {
			t.Fatal("nil event without error")
		}
		// What Parse accepts, Marshal writes, and that is stable.
		out1, err := Marshal(e)
		if err != nil {
			t.Fatalf("Marshal(%T): %v", e, err)
		}
		e2, err := Parse(out1)
		if err != nil {
			t.Fatalf("Parse(Marshal(e)) = %v\nbody: %q\nout:  %q", err, body, out1)
		}
		if e2.Type() != e.Type() || reflect.TypeOf(e2) != reflect.TypeOf(e) {
			t.Fatalf("type changed: %T %q -> %T %q", e, e.Type(), e2, e2.Type())
		}
		out2, err := Marshal(e2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out1, out2) {
			t.Fatalf("not stable:\n%q\n%q", out1, out2)
		}
	})
}

// FuzzMarshal checks the JSON.stringify canonical form on arbitrary JSON.
func FuzzMarshal(f *testing.F) {
	for _, c := range canonicalCases() {
		f.Add([]byte(c.in))
	}
	f.Add([]byte(`{"a":"\u003c\u2028\ud800","1":1.50,"0":-0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			if _, err := canonicalJSON(data); err == nil {
				t.Fatalf("canonicalJSON accepted invalid JSON %q", data)
			}
			return
		}
		out, err := Marshal(json.RawMessage(data))
		if err != nil {
			t.Fatalf("Marshal(%q): %v", data, err)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid output %q", out)
		}
		again, err := Marshal(json.RawMessage(out))
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q (%v)", out, again, err)
		}
		var want, got any
		if json.Unmarshal(data, &want) != nil {
			return // e.g. a number out of float64 range
		}
		if err := json.Unmarshal(out, &got); err != nil || !reflect.DeepEqual(want, got) {
			t.Fatalf("value changed: %q -> %q (%v)", data, out, err)
		}
	})
}

// FuzzHandler posts arbitrary signed bodies: the handler may only answer
// 200 or 400, never fail otherwise or panic.
func FuzzHandler(f *testing.F) {
	for _, name := range EventNames()[:5] {
		f.Add(deliveryBody(f, name, testNow, "wh-"+name))
	}
	f.Add([]byte(`{"timestamp":"2025-01-28T14:35:00Z","webhookId":"x","type":"ContactCreate","dnd":1}`))
	_, k := loadVectors(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		h := NewHandler(testVerifier(t), WithMaxBodyBytes(1<<16))
		h.HandleDefault(func(ctx context.Context, e Event) error { return nil })
		code := post(t, h, mustSign(t, body, HMACSigner{k.hmacSecret}), body)
		if code != http.StatusOK && code != http.StatusBadRequest && code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d for %q", code, body)
		}
	})
}
