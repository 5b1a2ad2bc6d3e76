package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
)

// TestTokenCreate mints tokens with the CLI against a database and uses
// them on a server over the same database.
func TestTokenCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := sandbox.Seed(context.Background(), st, sandbox.SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db := "sqlite:" + path

	// Plain output: the secret alone on stdout, a note on stderr.
	code, stdout, stderr := runCmd(t, "token", "create", "--db", db, "--location", seed.LocationID, "--scopes", "contacts.readonly, contacts.write")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	contactsToken := strings.TrimSpace(stdout)
	if !strings.HasPrefix(contactsToken, "pit-") || strings.Contains(contactsToken, "\n") {
		t.Fatalf("stdout = %q, want just the token", stdout)
	}
	if !strings.Contains(stderr, "location "+seed.LocationID) || !strings.Contains(stderr, "2 scope(s)") {
		t.Errorf("stderr = %q", stderr)
	}

	// JSON output, space-separated scopes, agency token.
	code, stdout, stderr = runCmd(t, "token", "create", "--db", db, "--company", seed.CompanyID, "--scopes", "companies.readonly locations.readonly", "--name", "ops", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var agency struct {
		Token, ID, Name, UserType, CompanyID, LocationID string
		Scopes                                           []string
	}
	if err := json.Unmarshal([]byte(stdout), &agency); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	if agency.UserType != "Company" || agency.CompanyID != seed.CompanyID || agency.LocationID != "" || agency.Name != "ops" ||
		len(agency.Scopes) != 2 || !strings.HasPrefix(agency.Token, "pit-") || agency.ID == "" {
		t.Errorf("agency token = %+v", agency)
	}

	// A location of another company is refused; an unknown scope too.
	if code, _, stderr := runCmd(t, "token", "create", "--db", db, "--location", seed.LocationID, "--company", "someone-else"); code != 1 || !strings.Contains(stderr, "belongs to another company") {
		t.Errorf("mismatched company: exit %d: %s", code, stderr)
	}
	for _, tt := range []struct {
		scopes string
		code   int
		msg    string
	}{
		{"contacts.readonly,contacts.everything", 1, `--scopes: unknown scope "contacts.everything"`},
		{"contacts.all locations.everything", 1, `--scopes: unknown scopes "contacts.all", "locations.everything"`},
		// An explicitly empty --scopes is not "every scope".
		{"", 2, "--scopes is empty"},
		{" ,\t", 2, "--scopes is empty"},
	} {
		code, stdout, stderr := runCmd(t, "token", "create", "--db", db, "--location", seed.LocationID, "--scopes", tt.scopes)
		if code != tt.code || stdout != "" || !strings.Contains(stderr, tt.msg) {
			t.Errorf("--scopes %q: exit %d (want %d), stdout %q, stderr %q", tt.scopes, code, tt.code, stdout, stderr)
		}
	}
	// Without --scopes, the token has every scope.
	code, stdout, stderr = runCmd(t, "token", "create", "--db", db, "--location", seed.LocationID, "--json")
	var all struct{ Scopes []string }
	if code != 0 || json.Unmarshal([]byte(stdout), &all) != nil || len(all.Scopes) != len(sandbox.AllScopes()) {
		t.Errorf("no --scopes: exit %d, %d scopes, stderr %q", code, len(all.Scopes), stderr)
	}
	// The refused requests minted nothing: the seed's two tokens and the
	// three above.
	st, err = sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Read(context.Background(), func(tx sandbox.Tx) error {
		n, err := tx.CountRecords(context.Background(), sandbox.RecordQuery{Kind: sandbox.KindToken})
		if n != 5 {
			t.Errorf("%d tokens stored, want 5", n)
		}
		return err
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	s := startServer(t, "sandbox", "--db", db, "--listen", addr, "--json")
	if s.info.Token != "" || s.info.LocationID != "" {
		t.Errorf("sandbox without --seed reports demo data: %+v", s.info)
	}
	if res := s.get(t, addr, "/contacts/?locationId="+seed.LocationID, contactsToken); res.StatusCode != 200 {
		t.Errorf("minted token: GET contacts %d", res.StatusCode)
	}
	// It carries only the scopes asked for.
	if res := s.get(t, addr, "/locations/"+seed.LocationID+"/tags", contactsToken); res.StatusCode != 401 {
		t.Errorf("minted token without locations/tags.readonly: GET tags %d, want 401", res.StatusCode)
	}
	if res := s.get(t, addr, "/companies/"+seed.CompanyID, agency.Token); res.StatusCode != 200 {
		t.Errorf("agency token: GET company %d", res.StatusCode)
	}
}

// TestTokenCreateNeedsDatabase: token create works on an existing
// sandbox's database and creates none, at a --db that does not exist or at
// the default path when run from another directory.
func TestTokenCreateNeedsDatabase(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nonexist", "dir", "x.db")
	code, stdout, stderr := runCmd(t, "token", "create", "--location", "ve9EPM428h8vShlRW1KT", "--db", "sqlite:"+missing)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "no sandbox database at "+missing) ||
		!strings.Contains(stderr, "start one with `ghlkit dev` or `ghlkit sandbox`") || !strings.Contains(stderr, "--db") {
		t.Errorf("missing --db: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "nonexist")); !os.IsNotExist(err) {
		t.Errorf("token create made %s: %v", filepath.Join(dir, "nonexist"), err)
	}
	t.Run("GHLKIT_DB", func(t *testing.T) {
		t.Setenv("GHLKIT_DB", "sqlite:"+missing)
		if code, _, stderr := runCmd(t, "token", "create", "--company", "5DP4iH6HLkQsiKESj6rh"); code != 1 || !strings.Contains(stderr, "no sandbox database at "+missing) {
			t.Errorf("missing GHLKIT_DB: exit %d, stderr %q", code, stderr)
		}
	})

	wantNoDefaultDB(t, dir, "token", "create", "--location", "ve9EPM428h8vShlRW1KT")
}
