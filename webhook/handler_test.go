package webhook

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// post sends body with headers h to handler and returns the status.
func post(t *testing.T, handler http.Handler, h http.Header, body []byte) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/ghl", bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return rec.Code
}

func TestHandlerStatus(t *testing.T) {
	_, k := loadVectors(t)
	ed := func(b []byte) http.Header { return mustSign(t, b, Ed25519Signer{k.edPriv}) }
	good := deliveryBody(t, EventContactCreate, testNow, "wh-good")

	tests := []struct {
		name   string
		method string
		header http.Header
		body   []byte
		want   int
	}{
		{"ok", "", ed(good), good, http.StatusOK},
		{"GET", http.MethodGet, ed(good), good, http.StatusMethodNotAllowed},
		{"too large", "", nil, bytes.Repeat([]byte("x"), 2048), http.StatusRequestEntityTooLarge},
		{"no signature", "", http.Header{}, good, http.StatusUnauthorized},
		{"bad signature", "", header(HeaderGHLSignature, "AAAA"), good, http.StatusUnauthorized},
		{"signature of other body", "", ed([]byte(`{}`)), good, http.StatusUnauthorized},
		{"too old", "", nil, deliveryBody(t, EventContactCreate, testNow.Add(-time.Hour), "wh-old"), http.StatusBadRequest},
		{"too new", "", nil, deliveryBody(t, EventContactCreate, testNow.Add(time.Hour), "wh-new"), http.StatusBadRequest},
		{"not JSON", "", nil, []byte(`not json`), http.StatusBadRequest},
		{"no webhookId", "", nil, []byte(`{"type":"NoteCreate","timestamp":"2025-01-28T14:35:00Z"}`), http.StatusBadRequest},
		{"wrong field type", "", nil, []byte(`{"type":"ContactCreate","timestamp":"2025-01-28T14:35:00Z","webhookId":"wh-t","dnd":"yes"}`), http.StatusBadRequest},
		{"unknown event", "", nil, []byte(`{"type":"Future","timestamp":"2025-01-28T14:35:00Z","webhookId":"wh-u"}`), http.StatusOK},
		{"event without a function", "", nil, deliveryBody(t, EventTaskCreate, testNow, "wh-task"), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHandler(testVerifier(t), WithMaxBodyBytes(1024))
			h.OnContactCreate(func(context.Context, *ContactCreate) error { return nil })
			hdr := tt.header
			if hdr == nil {
				hdr = ed(tt.body)
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/", bytes.NewReader(tt.body))
			for k, v := range hdr {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status = %d (%s), want %d", rec.Code, strings.TrimSpace(rec.Body.String()), tt.want)
			}
			if tt.want == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != http.MethodPost {
				t.Error("405 without Allow: POST")
			}
		})
	}
}

func TestHandlerDispatch(t *testing.T) {
	_, k := loadVectors(t)
	h := NewHandler(testVerifier(t))
	var mu sync.Mutex
	var got []string
	record := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, s)
	}
	h.OnContactCreate(func(ctx context.Context, e *ContactCreate) error {
		record("contact " + e.Email + " " + e.WebhookID)
		return nil
	})
	h.Handle("INSTALL", func(ctx context.Context, e Event) error { // a wire type: mapped to AppInstall
		record("install " + e.(*AppInstall).AppID)
		return nil
	})
	h.OnProviderOutboundMessage(func(ctx context.Context, e *ProviderOutboundMessage) error {
		record("provider " + e.WireType)
		return nil
	})
	h.HandleDefault(func(ctx context.Context, e Event) error {
		record("default " + e.Type())
		return nil
	})

	send := func(event, id string) int {
		body := deliveryBody(t, event, testNow, id)
		return post(t, h, mustSign(t, body, RSASigner{k.rsaPriv}), body)
	}
	for _, c := range []struct{ event, id string }{
		{EventContactCreate, "1"}, {EventAppInstall, "2"}, {EventProviderOutboundMessage, "3"}, {EventNoteCreate, "4"},
		{EventContactCreate, "1"}, // duplicate: acknowledged, not dispatched
	} {
		if code := send(c.event, c.id); code != http.StatusOK {
			t.Errorf("%s: status %d", c.event, code)
		}
	}
	unknown := []byte(`{"type":"BrandNew","timestamp":"2025-01-28T14:35:00Z","webhookId":"5"}`)
	if code := post(t, h, mustSign(t, unknown, RSASigner{k.rsaPriv}), unknown); code != http.StatusOK {
		t.Errorf("unknown: status %d", code)
	}
	want := []string{
		"contact JohnDeo@gmail.comm 1",
		"install ve9EPM428h8vShlRW1KT",
		"provider SMS",
		"default NoteCreate",
		"default BrandNew",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("dispatched:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Removing a function leaves the default.
	h.Handle(EventContactCreate, nil)
	got = nil
	if code := send(EventContactCreate, "6"); code != http.StatusOK || len(got) != 1 || got[0] != "default ContactCreate" {
		t.Errorf("after removal: %d %v", code, got)
	}
}

func TestHandlerCallbackErrorAllowsRedelivery(t *testing.T) {
	_, k := loadVectors(t)
	h := NewHandler(testVerifier(t))
	calls, fail := 0, true
	h.OnOpportunityStageUpdate(func(ctx context.Context, e *OpportunityStageUpdate) error {
		calls++
		if fail {
			return errors.New("CRM is down")
		}
		return nil
	})
	body := deliveryBody(t, EventOpportunityStageUpdate, testNow, "wh-retry")
	hdr := mustSign(t, body, HMACSigner{k.hmacSecret})
	if code := post(t, h, hdr, body); code != http.StatusInternalServerError {
		t.Fatalf("failing callback: status %d, want 500", code)
	}
	fail = false
	if code := post(t, h, hdr, body); code != http.StatusOK {
		t.Fatalf("redelivery: status %d, want 200", code)
	}
	if code := post(t, h, hdr, body); code != http.StatusOK {
		t.Fatalf("duplicate: status %d, want 200", code)
	}
	if calls != 2 {
		t.Errorf("callback called %d times, want 2", calls)
	}
}

func TestHandlerCallbackPanicForgets(t *testing.T) {
	_, k := loadVectors(t)
	h := NewHandler(testVerifier(t))
	panicking := true
	h.OnNoteCreate(func(context.Context, *NoteCreate) error {
		if panicking {
			panic("boom")
		}
		return nil
	})
	body := deliveryBody(t, EventNoteCreate, testNow, "wh-panic")
	hdr := mustSign(t, body, HMACSigner{k.hmacSecret})
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the callback's panic", p)
			}
		}()
		post(t, h, hdr, body)
	}()
	panicking = false
	if code := post(t, h, hdr, body); code != http.StatusOK {
		t.Fatalf("redelivery after panic: status %d", code)
	}
}

func TestHandlerSeenStoreFailure(t *testing.T) {
	_, k := loadVectors(t)
	var logs bytes.Buffer
	h := NewHandler(testVerifier(t, WithSeenStore(failingStore{})), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	called := false
	h.HandleDefault(func(context.Context, Event) error { called = true; return nil })
	body := deliveryBody(t, EventNoteCreate, testNow, "wh-store")
	if code := post(t, h, mustSign(t, body, HMACSigner{k.hmacSecret}), body); code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", code)
	}
	if called {
		t.Error("callback called although the store failed")
	}
	if !strings.Contains(logs.String(), "database is down") {
		t.Errorf("store failure not logged: %s", logs.String())
	}
}

func TestHandlerLogging(t *testing.T) {
	var logs bytes.Buffer
	h := NewHandler(testVerifier(t), WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if code := post(t, h, nil, []byte(`{}`)); code != http.StatusUnauthorized {
		t.Fatalf("status %d", code)
	}
	if !strings.Contains(logs.String(), `"level":"WARN"`) || !strings.Contains(logs.String(), `"status":401`) {
		t.Errorf("rejection not logged: %s", logs.String())
	}
}

func TestNewHandlerNilVerifier(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewHandler(nil) did not panic")
		}
	}()
	NewHandler(nil)
}

// errReader fails reading.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestHandlerBodyReadError(t *testing.T) {
	h := NewHandler(testVerifier(t))
	req := httptest.NewRequest(http.MethodPost, "/", errReader{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status %d, want 400", rec.Code)
	}
}
