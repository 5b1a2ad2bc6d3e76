package webhook_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/ghlkit/ghlkit/webhook"
)

// A receiver for GHL webhooks: verify, dedupe, parse and dispatch in an
// http.Handler.
func ExampleNewHandler() {
	// NewVerifier checks X-WH-Signature with GHL's published RSA key. Add
	// the Ed25519 key for X-GHL-Signature from the environment, as GHL's SDK
	// does (WEBHOOK_SIGNATURE_PUBLIC_KEY), and a shared secret for workflow
	// webhooks.
	secret := []byte("workflow-secret")
	opts := []webhook.VerifierOption{webhook.WithHMACSecrets(secret)}
	if pem := os.Getenv("WEBHOOK_SIGNATURE_PUBLIC_KEY"); pem != "" {
		opts = append(opts, webhook.WithPublicKeysPEM([]byte(pem)))
	}
	v, err := webhook.NewVerifier(opts...)
	if err != nil {
		log.Fatal(err)
	}
	h := webhook.NewHandler(v)
	h.OnContactCreate(func(ctx context.Context, e *webhook.ContactCreate) error {
		fmt.Println("new contact:", e.Email)
		return nil // an error answers 500, so that the sender may redeliver
	})
	h.OnAppInstall(func(ctx context.Context, e *webhook.AppInstall) error {
		fmt.Println("installed in location", e.LocationID)
		return nil
	})
	// In a server: http.Handle("POST /webhooks/ghl", h)

	// A signed delivery, as GHL would send it.
	body := []byte(`{"type":"ContactCreate","timestamp":"` + time.Now().UTC().Format(time.RFC3339) +
		`","webhookId":"wh_1","email":"jane@example.com"}`)
	deliver := func(signature string) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/ghl", bytes.NewReader(body))
		req.Header.Set(webhook.HeaderGHLSignature, signature)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println("status", rec.Code)
	}
	deliver(webhook.ComputeHMAC(secret, body))
	deliver(webhook.ComputeHMAC(secret, body)) // a redelivery: acknowledged, not handled again
	deliver(webhook.ComputeHMAC([]byte("forged"), body))
	// Output:
	// new contact: jane@example.com
	// status 200
	// status 200
	// status 401
}

// Verifying inside your own handler, without webhook.Handler.
func ExampleVerifier_ConstructEvent() {
	secret := []byte("workflow-secret")
	v, err := webhook.NewVerifier(webhook.WithHMACSecrets(secret))
	if err != nil {
		log.Fatal(err)
	}
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		e, err := v.ConstructEvent(r.Context(), r.Header, body)
		switch {
		case errors.Is(err, webhook.ErrDuplicate):
			w.WriteHeader(http.StatusOK) // already handled
			return
		case errors.Is(err, webhook.ErrNoSignature), errors.Is(err, webhook.ErrInvalidSignature):
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		case err != nil: // ErrTooOld, ErrInvalidPayload
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch e := e.(type) {
		case *webhook.OpportunityStageUpdate:
			fmt.Println("opportunity", e.ID, "moved to stage", e.PipelineStageID)
		case *webhook.UnknownEvent:
			fmt.Println("unknown event", e.Type())
		}
	}

	body := []byte(`{"type":"OpportunityStageUpdate","timestamp":"` + time.Now().UTC().Format(time.RFC3339) +
		`","webhookId":"wh_2","id":"opp_1","pipelineStageId":"stage_won"}`)
	req := httptest.NewRequest(http.MethodPost, "/hooks/ghl", bytes.NewReader(body))
	req.Header.Set(webhook.HeaderGHLSignature, webhook.ComputeHMAC(secret, body))
	rec := httptest.NewRecorder()
	handler(rec, req)
	fmt.Println("status", rec.Code)
	// Output:
	// opportunity opp_1 moved to stage stage_won
	// status 200
}

// Signing a delivery the way GHL does, e.g. in a test server.
func ExampleSign() {
	// A fixed key for the example; use webhook.GenerateEd25519Key.
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

	e, err := webhook.Parse(webhook.SamplePayload(webhook.EventNoteCreate))
	if err != nil {
		log.Fatal(err)
	}
	e.EventMeta().Timestamp = webhook.Timestamp{Time: time.Date(2025, 1, 28, 14, 35, 0, 0, time.UTC)}
	e.EventMeta().WebhookID = "wh_3"
	body, err := webhook.Marshal(e) // sign exactly the bytes you send
	if err != nil {
		log.Fatal(err)
	}
	h, err := webhook.Sign(body, webhook.Ed25519Signer{Key: key})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(body))
	fmt.Println(webhook.HeaderGHLSignature+":", h.Get(webhook.HeaderGHLSignature))

	// The receiving side.
	pub := key.Public().(ed25519.PublicKey)
	fmt.Println(webhook.VerifyEd25519(body, h.Get(webhook.HeaderGHLSignature), pub))
	// Output:
	// {"type":"NoteCreate","timestamp":"2025-01-28T14:35:00.000Z","webhookId":"wh_3","locationId":"ve9EPM428h8vShlRW1KT","id":"otg8dTQqGLh3Q6iQI55w","body":"Loram ipsum","contactId":"CWBf1PR9LvvBkcYqiXlc","dateAdded":"2021-11-26T12:41:02.193Z"}
	// X-GHL-Signature: LDBPDVCbVU2lCHTMxq/YCRirflAXWhYrllvDv5g7IieML3v7UBLVTnTVDlLESVpnpRIw4PoHIIYJUrhlyumYDQ==
	// <nil>
}

// Marshal writes JSON as JavaScript's JSON.stringify does.
func ExampleMarshal() {
	b, _ := webhook.Marshal(map[string]any{
		"html":  "<b>Tom & Jerry</b>",
		"price": 10.50,
		"sep":   "a\u2028b",
	})
	fmt.Printf("%q\n", b) // %q shows the unescaped U+2028 as \u2028
	// Output:
	// "{\"html\":\"<b>Tom & Jerry</b>\",\"price\":10.5,\"sep\":\"a\u2028b\"}"
}
