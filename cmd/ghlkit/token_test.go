package main

import (
	"context"
	"encoding/json"
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
	if code, _, stderr := runCmd(t, "token", "create", "--db", db, "--location", seed.LocationID, "--scopes", "contacts.readonly,contacts.everything"); code != 1 || !strings.Contains(stderr, `unknown scope "contacts.everything"`) {
		t.Errorf("unknown scope: exit %d: %s", code, stderr)
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
