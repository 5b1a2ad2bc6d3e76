package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox/outbound"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
	"github.com/ghlkit/ghlkit/webhook"
)

func TestTrigger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ghlkit.db")
	db := "sqlite:" + path
	rcv := newHookReceiver(t, 200, 500)

	code, out, errOut := runCmd(t, "trigger", "ContactTagUpdate", "--to", rcv.URL, "--db", db, "--location", "LOC1", "--set", `tags=["vip", "new"]`)
	if code != 0 || !strings.Contains(out, "ContactTagUpdate webhookId=") || !strings.Contains(out, "-> 200 OK") {
		t.Fatalf("trigger: %d %q %s", code, out, errOut)
	}
	d := rcv.wait(t, 1)[0]
	// Signed with the keys kept in --db, which the sandbox would use too.
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := outbound.LoadKeys(context.Background(), st)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	v, err := webhook.NewVerifier(webhook.WithPublicKeysPEM([]byte(keys.Ed25519PEM + keys.RSAPEM)))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := v.ConstructEvent(context.Background(), d.header, d.body)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, d.body)
	}
	tu, ok := ev.(*webhook.ContactTagUpdate)
	if !ok || tu.LocationID != "LOC1" || strings.Join(tu.Tags, ",") != "vip,new" || tu.WebhookID == "" {
		t.Errorf("event = %T %+v", ev, ev)
	}
	if err := webhook.VerifyRSA(d.body, d.header.Get(webhook.HeaderWHSignature), &keys.RSA.PublicKey); err != nil {
		t.Errorf("RSA: %v", err)
	}
	// The body is what JSON.stringify(JSON.parse(body)) gives back.
	again, _ := webhook.Marshal(json.RawMessage(d.body))
	if string(again) != string(d.body) {
		t.Errorf("body is not in JSON.stringify form:\n%s\n%s", d.body, again)
	}

	// A failing receiver fails the command.
	code, _, errOut = runCmd(t, "trigger", "NoteCreate", "--to", rcv.URL, "--db", db)
	if code != 1 || !strings.Contains(errOut, "500") {
		t.Errorf("receiver 500: exit %d %s", code, errOut)
	}

	// --secret signs with HMAC in X-GHL-Signature, as workflow webhooks.
	code, _, errOut = runCmd(t, "trigger", "opportunitystageupdate", "--to", rcv.URL, "--secret", "s3cret")
	if code != 0 {
		t.Fatalf("--secret: %d %s", code, errOut)
	}
	h := rcv.wait(t, 3)[2]
	if err := webhook.VerifyHMAC(h.body, h.header.Get(webhook.HeaderGHLSignature), []byte("s3cret")); err != nil || h.header.Get(webhook.HeaderWHSignature) != "" {
		t.Errorf("HMAC: %v, X-WH-Signature %q", err, h.header.Get(webhook.HeaderWHSignature))
	}

	code, out, _ = runCmd(t, "trigger", "--list")
	if code != 0 || !strings.Contains(out, "ContactCreate\n") || len(strings.Split(strings.TrimSpace(out), "\n")) != len(webhook.EventNames()) {
		t.Errorf("--list: %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"trigger", "NoSuchEvent", "--to", rcv.URL},
		{"trigger", "ContactCreate"},
		{"trigger", "ContactCreate", "--to", "ftp://x"},
		{"trigger"},
		{"trigger", "ContactCreate", "--print", "--set", "novalue"},
	} {
		if code, _, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
