package sandbox_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/outbound"
	"github.com/ghlkit/ghlkit/webhook"
)

func TestWebhookAdminLocationWebhooks(t *testing.T) {
	e := newTestEnv(t)
	created := e.do("POST", "/_ghlkit/webhooks", "", map[string]any{
		"locationId": e.L1, "url": "https://example.com/hook", "events": []string{"ContactCreate", "NoteCreate"},
		"secret": "shh", "retryPolicy": "exponential", "name": "CRM sync",
	}).mustStatus(t, 201).JSON(t)["webhook"].(map[string]any)
	id, _ := created["id"].(string)
	if len(id) != 20 || created["type"] != "location" || created["locationId"] != e.L1 || created["companyId"] != e.C1 ||
		created["retryPolicy"] != "exponential" || created["hasSecret"] != true || created["name"] != "CRM sync" {
		t.Errorf("created = %v", created)
	}
	if _, ok := created["secret"]; ok {
		t.Error("the secret is shown")
	}
	// Default policy is ghl; no events means every event.
	other := e.do("POST", "/_ghlkit/webhooks", "", map[string]any{"locationId": e.L2, "url": "http://127.0.0.1:9/x"}).mustStatus(t, 201).JSON(t)["webhook"].(map[string]any)
	if other["retryPolicy"] != "ghl" || other["hasSecret"] != false {
		t.Errorf("defaults = %v", other)
	}
	if evs, ok := other["events"].([]any); !ok || len(evs) != 0 {
		t.Errorf("events = %v", other["events"])
	}

	list := e.do("GET", "/_ghlkit/webhooks?locationId="+e.L1, "", nil).mustStatus(t, 200).JSON(t)["webhooks"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Errorf("list L1 = %v", list)
	}
	if all := e.do("GET", "/_ghlkit/webhooks", "", nil).mustStatus(t, 200).JSON(t)["webhooks"].([]any); len(all) != 2 {
		t.Errorf("list all = %d", len(all))
	}
	got := e.do("GET", "/_ghlkit/webhooks/"+id, "", nil).mustStatus(t, 200).JSON(t)["webhook"].(map[string]any)
	if got["url"] != "https://example.com/hook" {
		t.Errorf("get = %v", got)
	}
	// The stored record keeps the secret for signing.
	err := e.Store.Read(context.Background(), func(tx sandbox.Tx) error {
		var w sandbox.Webhook
		if err := sandbox.GetRecordAs(context.Background(), tx, sandbox.KindWebhook, id, &w); err != nil {
			return err
		}
		if w.Secret != "shh" || !w.Wants("NoteCreate") || w.Wants("ContactUpdate") {
			t.Errorf("stored = %+v", w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	del := e.do("DELETE", "/_ghlkit/webhooks/"+id, "", nil).mustStatus(t, 200).JSON(t)
	if del["deleted"] != true || del["id"] != id {
		t.Errorf("delete = %v", del)
	}
	nf := e.do("GET", "/_ghlkit/webhooks/"+id, "", nil).mustStatus(t, 404).JSON(t)
	if nf["message"] != "Webhook not found" || nf["statusCode"] != float64(404) || nf["error"] != "Not Found" {
		t.Errorf("not found = %v", nf)
	}
	e.do("DELETE", "/_ghlkit/webhooks/"+id, "", nil).mustStatus(t, 404)
}

func TestWebhookAdminValidation(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct {
		body   any
		status int
		msg    string
	}{
		{map[string]any{"url": "https://example.com"}, 422, "locationId should not be empty"},
		{map[string]any{"locationId": e.L1}, 422, "url should not be empty"},
		{map[string]any{"locationId": e.L1, "url": "ftp://example.com"}, 422, "url must be an http or https URL"},
		{map[string]any{"locationId": e.L1, "url": "https://example.com", "events": []string{"ContactCreate", "Nope"}}, 422, `events[1] must be a GHL event name ("Nope" is not)`},
		{map[string]any{"locationId": e.L1, "url": "https://example.com", "retryPolicy": "forever"}, 422, "retryPolicy must be one of the following values: ghl, exponential"},
		{map[string]any{"locationId": e.L1, "url": 7}, 422, "url must be a string"},
		{map[string]any{"locationId": "missing", "url": "https://example.com"}, 404, "Location not found"},
		{"{", 400, ""},
		{`{"url":"` + strings.Repeat("a", sandbox.MaxBodyBytes) + `"}`, 413, ""},
	} {
		res := e.do("POST", "/_ghlkit/webhooks", "", tc.body).mustStatus(t, tc.status).JSON(t)
		if tc.msg == "" {
			continue
		}
		msg := res["message"]
		if arr, ok := msg.([]any); ok && len(arr) == 1 {
			msg = arr[0]
		}
		if msg != tc.msg {
			t.Errorf("%v: message %v, want %q", tc.body, res["message"], tc.msg)
		}
	}
	if n := len(e.do("GET", "/_ghlkit/webhooks", "", nil).mustStatus(t, 200).JSON(t)["webhooks"].([]any)); n != 0 {
		t.Errorf("%d webhooks stored by failed requests", n)
	}
	e.do("GET", "/_ghlkit/webhooks/deliveries?limit=0", "", nil).mustStatus(t, 422)
	res := e.do("GET", "/_ghlkit/webhooks/deliveries", "", nil).mustStatus(t, 200).JSON(t)
	if d, ok := res["deliveries"].([]any); !ok || len(d) != 0 {
		t.Errorf("deliveries = %v", res)
	}
	e.do("GET", "/_ghlkit/webhooks/deliveries/nope", "", nil).mustStatus(t, 404)
}

func TestWebhookAdminAppWebhook(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	appID := sandbox.NewID()
	e.do("PUT", "/_ghlkit/apps/"+appID+"/webhook", "", map[string]any{"url": "https://example.com/app"}).mustStatus(t, 404)
	err := e.Store.Write(ctx, func(tx sandbox.Tx) error {
		return sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindApp, ID: appID, Key: "client-" + appID}, map[string]any{"id": appID})
	})
	if err != nil {
		t.Fatal(err)
	}
	e.do("GET", "/_ghlkit/apps/"+appID+"/webhook", "", nil).mustStatus(t, 404)
	e.do("PUT", "/_ghlkit/apps/"+appID+"/webhook", "", map[string]any{"url": "https://example.com/app", "secret": "x"}).mustStatus(t, 422)
	first := e.do("PUT", "/_ghlkit/apps/"+appID+"/webhook", "", map[string]any{"url": "https://example.com/app", "events": []string{"AppInstall"}}).
		mustStatus(t, 201).JSON(t)["webhook"].(map[string]any)
	second := e.do("PUT", "/_ghlkit/apps/"+appID+"/webhook", "", map[string]any{"url": "https://example.com/v2", "retryPolicy": "exponential"}).
		mustStatus(t, 200).JSON(t)["webhook"].(map[string]any)
	if second["id"] != first["id"] || second["url"] != "https://example.com/v2" || second["retryPolicy"] != "exponential" || second["appId"] != appID || second["type"] != "app" {
		t.Errorf("first %v, second %v", first, second)
	}
	got := e.do("GET", "/_ghlkit/apps/"+appID+"/webhook", "", nil).mustStatus(t, 200).JSON(t)["webhook"].(map[string]any)
	if got["url"] != "https://example.com/v2" {
		t.Errorf("get = %v", got)
	}
	if list := e.do("GET", "/_ghlkit/webhooks?appId="+appID, "", nil).mustStatus(t, 200).JSON(t)["webhooks"].([]any); len(list) != 1 {
		t.Errorf("list by app = %v", list)
	}
	e.do("DELETE", "/_ghlkit/apps/"+appID+"/webhook", "", nil).mustStatus(t, 200)
	e.do("GET", "/_ghlkit/apps/"+appID+"/webhook", "", nil).mustStatus(t, 404)
}

func TestWebhookAdminKeys(t *testing.T) {
	e := newTestEnv(t)
	e.do("GET", "/_ghlkit/webhooks/keys", "", nil).mustStatus(t, 404)
	keys, err := outbound.EnsureKeys(context.Background(), e.Store, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := e.do("GET", "/_ghlkit/webhooks/keys", "", nil).mustStatus(t, 200).JSON(t)
	if got["ed25519"] != keys.Ed25519PEM || got["rsa"] != keys.RSAPEM {
		t.Errorf("keys = %v", got)
	}
	pem := e.do("GET", "/_ghlkit/webhooks/keys?format=pem", "", nil).mustStatus(t, 200)
	pubs, err := webhook.ParsePublicKeysPEM(pem.Body)
	if err != nil || len(pubs) != 2 {
		t.Errorf("PEM: %d keys, %v", len(pubs), err)
	}
}

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	id, event string
	data      sandbox.StreamMessage
}

// readSSE reads events from a stream into a channel.
func readSSE(t *testing.T, res *http.Response) <-chan sseEvent {
	ch := make(chan sseEvent, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var cur sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.id != "" {
					ch <- cur
				}
				cur = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				cur.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				cur.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(line[6:]), &cur.data); err != nil {
					t.Errorf("data: %v", err)
				}
			}
		}
	}()
	return ch
}

func openStream(t *testing.T, e *testEnv, query, lastID string) (*http.Response, <-chan sseEvent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", e.HTTP.URL+"/_ghlkit/events/stream"+query, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return res, readSSE(t, res)
}

func nextSSE(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event on the stream")
	}
	return sseEvent{}
}

func TestEventStream(t *testing.T) {
	e := newTestEnv(t)
	keys, err := outbound.EnsureKeys(context.Background(), e.Store, 0)
	if err != nil {
		t.Fatal(err)
	}
	// An event before the stream opens is not sent (only new ones are).
	e.do("POST", "/contacts/", e.TokL1, map[string]any{"locationId": e.L1, "email": "old@example.com"}).mustStatus(t, 201)
	_, all := openStream(t, e, "", "")
	_, onlyNotes := openStream(t, e, "?types=NoteCreate", "")

	c := e.do("POST", "/contacts/", e.TokL1, map[string]any{"locationId": e.L1, "email": "new@example.com"}).mustStatus(t, 201).JSON(t)["contact"].(map[string]any)
	ev := nextSSE(t, all)
	if ev.event != "ContactCreate" || ev.data.Type != "ContactCreate" || ev.data.LocationID != e.L1 || ev.id == "" || ev.data.Seq == 0 {
		t.Errorf("event = %+v", ev)
	}
	if !strings.Contains(ev.data.Body, `"id":"`+c["id"].(string)+`"`) || strings.Contains(ev.data.Body, "old@example.com") {
		t.Errorf("body = %s", ev.data.Body)
	}
	// The body is the stored payload byte for byte, signed as deliveries are.
	var stored *sandbox.OutboxEvent
	stored, err = e.Store.(sandbox.EventOutbox).GetEvent(context.Background(), ev.data.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.data.Body != string(stored.Payload) {
		t.Errorf("stream body differs from the outbox:\n%s\n%s", ev.data.Body, stored.Payload)
	}
	body := []byte(ev.data.Body)
	if err := webhook.VerifyEd25519(body, ev.data.Headers[webhook.HeaderGHLSignature], keys.Ed25519.Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("Ed25519: %v", err)
	}
	if err := webhook.VerifyRSA(body, ev.data.Headers[webhook.HeaderWHSignature], &keys.RSA.PublicKey); err != nil {
		t.Errorf("RSA: %v", err)
	}

	e.do("POST", "/contacts/"+c["id"].(string)+"/notes", e.TokL1, map[string]any{"body": "hello"}).mustStatus(t, 201)
	n := nextSSE(t, onlyNotes)
	if n.event != "NoteCreate" {
		t.Errorf("filtered stream sent %s", n.event)
	}

	// Resuming with Last-Event-ID sends what came after it.
	_, resumed := openStream(t, e, "", ev.id)
	if r := nextSSE(t, resumed); r.event != "NoteCreate" || r.data.Seq <= ev.data.Seq {
		t.Errorf("resumed with %+v", r)
	}
	e.do("GET", "/_ghlkit/events/stream?after=x", "", nil).mustStatus(t, 422)
}
