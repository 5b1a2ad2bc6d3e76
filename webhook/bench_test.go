package webhook

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchBody is a typical delivery: GHL's ContactCreate example with
// timestamp and webhookId (about 700 bytes).
func benchBody(b *testing.B) []byte {
	return deliveryBody(b, EventContactCreate, testNow, "wh-bench")
}

func benchVerify(b *testing.B, s Signer) {
	body := benchBody(b)
	v := testVerifier(b)
	h := mustSign(b, body, s)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.VerifySignature(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyEd25519(b *testing.B) {
	_, k := loadVectors(b)
	benchVerify(b, Ed25519Signer{k.edPriv})
}

// BenchmarkVerifyRSA verifies with a 4096-bit key, GHL's size.
func BenchmarkVerifyRSA(b *testing.B) {
	_, k := loadVectors(b)
	benchVerify(b, RSASigner{k.rsaPriv})
}

func BenchmarkVerifyHMAC(b *testing.B) {
	_, k := loadVectors(b)
	benchVerify(b, HMACSigner{k.hmacSecret})
}

func BenchmarkSign(b *testing.B) {
	_, k := loadVectors(b)
	body := benchBody(b)
	for _, s := range []Signer{Ed25519Signer{k.edPriv}, RSASigner{k.rsaPriv}, HMACSigner{k.hmacSecret}} {
		b.Run(fmt.Sprintf("%T", s)[len("webhook."):], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Signature(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	body := benchBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	e, err := Parse(benchBody(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandler measures a whole delivery through the Handler: read,
// verify (Ed25519), timestamp check, parse, dispatch. Duplicate detection is
// off: the same body is delivered every time.
func BenchmarkHandler(b *testing.B) {
	_, k := loadVectors(b)
	h := NewHandler(testVerifier(b, WithSeenStore(nil)))
	h.OnContactCreate(func(context.Context, *ContactCreate) error { return nil })
	body := benchBody(b)
	hdr := mustSign(b, body, Ed25519Signer{k.edPriv})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header = hdr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

func BenchmarkMemorySeenStore(b *testing.B) {
	s := NewMemorySeenStore(DefaultMemorySeenStoreSize)
	ctx := context.Background()
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = fmt.Sprintf("wh-%08d", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Seen(ctx, ids[i%len(ids)], DefaultTolerance); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
