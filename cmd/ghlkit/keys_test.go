package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghlkit/ghlkit/webhook"
)

func TestKeys(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "ghlkit.db")
	code, first, errOut := runCmd(t, "keys", "--db", db)
	if code != 0 {
		t.Fatalf("keys: %d %s", code, errOut)
	}
	pubs, err := webhook.ParsePublicKeysPEM([]byte(first))
	if err != nil || len(pubs) != 2 {
		t.Fatalf("keys printed %d keys (%v):\n%s", len(pubs), err, first)
	}
	// A new database is made (the keys may be printed before the sandbox
	// first starts), and said so, since a mistyped --db would otherwise
	// print keys no sandbox signs with.
	if !strings.Contains(errOut, "note: there was no sandbox database at "+strings.TrimPrefix(db, "sqlite:")) {
		t.Errorf("no note about the new database: %q", errOut)
	}
	// The keys are kept: a second run (as a restarted sandbox) prints the same.
	if _, again, errOut := runCmd(t, "keys", "--db", db); again != first || errOut != "" {
		t.Errorf("the keys changed between runs, or stderr %q", errOut)
	}
	_, ed, _ := runCmd(t, "keys", "--db", db, "--ed25519")
	if _, err := webhook.ParseEd25519PublicKeyPEM([]byte(ed)); err != nil {
		t.Errorf("--ed25519: %v\n%s", err, ed)
	}
	_, rsaPEM, _ := runCmd(t, "keys", "--db", db, "--rsa")
	if _, err := webhook.ParseRSAPublicKeyPEM([]byte(rsaPEM)); err != nil {
		t.Errorf("--rsa: %v", err)
	}
	if ed+rsaPEM != first {
		t.Error("--ed25519 and --rsa do not add up to the keys")
	}
	_, js, _ := runCmd(t, "keys", "--db", db, "--json")
	var m map[string]string
	if err := json.Unmarshal([]byte(js), &m); err != nil || m["ed25519"] != ed || m["rsa"] != rsaPEM {
		t.Errorf("--json: %v %q", err, js)
	}
	if code, _, _ := runCmd(t, "keys", "--db", db, "--ed25519", "--rsa"); code != 2 {
		t.Errorf("--ed25519 --rsa: exit %d, want 2", code)
	}
}
