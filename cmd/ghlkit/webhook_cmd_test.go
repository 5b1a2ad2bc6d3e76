package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookReceiver records the webhooks POSTed to it and answers with the
// statuses it is given, in turn (then 200).
type hookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []hookDelivery
	statuses []int
}

type hookDelivery struct {
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T, statuses ...int) *hookReceiver {
	r := &hookReceiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, hookDelivery{header: req.Header.Clone(), body: body})
		status := 200
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(r.Close)
	return r
}

// wait waits until n deliveries arrived and returns them.
func (r *hookReceiver) wait(t *testing.T, n int) []hookDelivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		got := append([]hookDelivery(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver got %d webhooks, want %d", len(got), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *hookReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// startWebhookSandbox runs `ghlkit sandbox` with the demo data on a fresh
// SQLite file and returns it and the file's --db value.
func startWebhookSandbox(t *testing.T) (*server, string) {
	t.Helper()
	db := "sqlite:" + filepath.Join(t.TempDir(), "ghlkit.db")
	s := startServer(t, "sandbox", "--json", "--listen", "127.0.0.1:0", "--db", db, "--seed", "demo", "--log-level", "warn")
	return s, db
}

// createContact creates a contact through the API.
func createContact(t *testing.T, s *server, email string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"locationId": s.info.LocationID, "email": email})
	req, _ := http.NewRequest("POST", s.info.BaseURL+"/contacts/", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.info.Token)
	req.Header.Set("Version", "2021-07-28")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("create contact: %d", res.StatusCode)
	}
}

func TestWebhookCommands(t *testing.T) {
	s, _ := startWebhookSandbox(t)
	rcv := newHookReceiver(t, 503)
	sb := "--sandbox=" + s.info.BaseURL

	code, out, errOut := runCmd(t, "webhook", "create", sb, "--location", s.info.LocationID, "--url", rcv.URL, "--events", "ContactCreate", "--retry", "ghl")
	if code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	id := strings.TrimSpace(out)
	if len(id) != 20 || !strings.Contains(errOut, "sends ContactCreate events to "+rcv.URL) {
		t.Errorf("create printed %q / %q", out, errOut)
	}
	code, out, _ = runCmd(t, "webhook", "list", sb, "--location", s.info.LocationID)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, rcv.URL) || !strings.Contains(out, "ContactCreate") {
		t.Errorf("list: %d\n%s", code, out)
	}

	createContact(t, s, "ada@example.com")
	rcv.wait(t, 1) // answered 503: final under the ghl policy
	var log struct {
		Deliveries []struct {
			ID, DeliveryID, Result string
			StatusCode             int
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(log.Deliveries) == 0 && time.Now().Before(deadline) {
		code, out, _ = runCmd(t, "webhook", "deliveries", sb, "--subscription", id, "--json")
		if code != 0 {
			t.Fatalf("deliveries: %d", code)
		}
		_ = json.Unmarshal([]byte(out), &log)
		time.Sleep(20 * time.Millisecond)
	}
	if len(log.Deliveries) != 1 || log.Deliveries[0].StatusCode != 503 || log.Deliveries[0].Result != "failed" {
		t.Fatalf("deliveries = %+v", log)
	}
	code, out, _ = runCmd(t, "webhook", "deliveries", sb)
	if code != 0 || !strings.Contains(out, "ContactCreate") || !strings.Contains(out, "503") || !strings.Contains(out, "failed") {
		t.Errorf("deliveries table:\n%s", out)
	}

	code, out, errOut = runCmd(t, "webhook", "replay", sb, log.Deliveries[0].ID)
	if code != 0 || len(strings.TrimSpace(out)) != 20 {
		t.Fatalf("replay: %d %q %s", code, out, errOut)
	}
	got := rcv.wait(t, 2)
	if !bytes.Equal(got[0].body, got[1].body) {
		t.Error("the replay sent another body")
	}

	code, _, errOut = runCmd(t, "webhook", "delete", sb, id)
	if code != 0 || !strings.Contains(errOut, "Deleted webhook "+id) {
		t.Errorf("delete: %d %s", code, errOut)
	}
	code, _, errOut = runCmd(t, "webhook", "delete", sb, id)
	if code != 1 || !strings.Contains(errOut, "Webhook not found") {
		t.Errorf("delete again: %d %s", code, errOut)
	}
	code, _, errOut = runCmd(t, "webhook", "create", sb, "--location", "nope", "--url", rcv.URL)
	if code != 1 || !strings.Contains(errOut, "Location not found") {
		t.Errorf("unknown location: %d %s", code, errOut)
	}
	code, _, errOut = runCmd(t, "webhook", "create", sb, "--location", s.info.LocationID, "--url", rcv.URL, "--events", "Nope")
	if code != 1 || !strings.Contains(errOut, `events[0] must be a GHL event name`) {
		t.Errorf("bad event: %d %s", code, errOut)
	}
	if code, _, _ = runCmd(t, "webhook", "create", sb, "--location", s.info.LocationID); code != 2 {
		t.Errorf("create without --url: exit %d, want 2", code)
	}
	if code, _, _ = runCmd(t, "webhook", "replay", sb); code != 2 {
		t.Errorf("replay without id: exit %d, want 2", code)
	}
	if code, _, errOut = runCmd(t, "webhook", "list", "--sandbox=http://127.0.0.1:1"); code != 1 || !strings.Contains(errOut, "cannot reach the sandbox") {
		t.Errorf("unreachable sandbox: %d %s", code, errOut)
	}
}
