package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/webhook"
)

// runBackground runs a long-lived command in-process until the test ends.
func runBackground(t *testing.T, args ...string) (stdout, stderr *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() { done <- Run(ctx, args, strings.NewReader(""), stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("%v exited %d: %s", args, code, stderr)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%v did not stop", args)
		}
	})
	return stdout, stderr
}

// waitFor waits until buf contains s.
func waitFor(t *testing.T, buf *lockedBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", s, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestListenForwardsSandboxEvents(t *testing.T) {
	s, db := startWebhookSandbox(t)
	rcv := newHookReceiver(t)
	out, errOut := runBackground(t, "listen", "--forward-to", rcv.URL+"/hooks", "--sandbox", s.info.BaseURL, "--events", "contactcreate")
	waitFor(t, errOut, "Ready!")

	createContact(t, s, "ada@example.com")
	d := rcv.wait(t, 1)[0]
	if !bytes.Contains(d.body, []byte(`"email":"ada@example.com"`)) {
		t.Errorf("forwarded %s", d.body)
	}
	// Forwarded with the sandbox's signatures, which its published keys verify.
	_, pems, _ := runCmd(t, "keys", "--db", db)
	v, err := webhook.NewVerifier(webhook.WithPublicKeysPEM([]byte(pems)))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.VerifySignature(d.header, d.body); err != nil {
		t.Errorf("Ed25519: %v", err)
	}
	rsaOnly, _ := webhook.NewVerifier(webhook.WithPublicKeysPEM([]byte(pems[strings.Index(pems, "-----END PUBLIC KEY-----")+25:])))
	h := d.header.Clone()
	h.Del(webhook.HeaderGHLSignature)
	if err := rsaOnly.VerifySignature(h, d.body); err != nil {
		t.Errorf("RSA: %v", err)
	}
	waitFor(t, out, "-> 200 OK")
	if line := out.String(); !strings.Contains(line, "ContactCreate") || !strings.Contains(line, "webhookId=") {
		t.Errorf("printed %q", line)
	}
}

func TestListenAsReceiver(t *testing.T) {
	rcv := newHookReceiver(t, 200, 202)
	out, errOut := runBackground(t, "listen", "--port", "0", "--forward-to", rcv.URL, "--secret", "s3cret")
	waitFor(t, errOut, "Ready!")
	addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(errOut.String())
	if addr == "" {
		t.Fatalf("no address in %q", errOut)
	}

	// A delivery signed as GHL's workflow webhooks are passes and is
	// forwarded with its headers; the sender gets the receiver's answer.
	code, trig, tErr := runCmd(t, "trigger", "ContactCreate", "--to", addr, "--secret", "s3cret")
	if code != 0 || !strings.Contains(trig, "-> 200 OK") {
		t.Fatalf("trigger: %d %s %s", code, trig, tErr)
	}
	d := rcv.wait(t, 1)[0]
	if err := webhook.VerifyHMAC(d.body, d.header.Get(webhook.HeaderGHLSignature), []byte("s3cret")); err != nil {
		t.Errorf("forwarded signature: %v", err)
	}
	waitFor(t, out, "-> 200 OK")

	// A bad signature is refused (401) and not forwarded.
	code, _, tErr = runCmd(t, "trigger", "ContactCreate", "--to", addr, "--secret", "wrong")
	if code != 1 || !strings.Contains(tErr, "401") {
		t.Errorf("bad signature: %d %s", code, tErr)
	}
	waitFor(t, out, "rejected")

	// A redelivery of the same webhookId is acknowledged, not forwarded again.
	req, _ := http.NewRequest("POST", addr, bytes.NewReader(d.body))
	req.Header = d.header.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("duplicate: %d", res.StatusCode)
	}
	waitFor(t, out, "duplicate, not forwarded")
	if n := rcv.count(); n != 1 {
		t.Errorf("receiver got %d webhooks, want 1", n)
	}
	if code, _, _ := runCmd(t, "listen", "--port", "0"); code != 2 {
		t.Errorf("listen without --forward-to: exit %d, want 2", code)
	}
}
