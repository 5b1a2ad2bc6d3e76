package spec

import (
	"io/fs"
	"testing"
)

func TestOperations(t *testing.T) {
	ops, err := Operations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 576 {
		t.Fatalf("got %d operations, want 576 (INDEX.md)", len(ops))
	}
	byNS := map[string]int{}
	for _, op := range ops {
		byNS[op.Namespace]++
	}
	for ns, want := range map[string]int{"contacts": 32, "users": 7, "locations": 29, "custom-fields": 8, "companies": 1, "oauth": 3} {
		if byNS[ns] != want {
			t.Errorf("%s: %d operations, want %d", ns, byNS[ns], want)
		}
	}
	op := Find("contacts", "get-contact")
	if op == nil || op.Method != "GET" || op.Path != "/contacts/{contactId}" {
		t.Fatalf("get-contact = %+v", op)
	}
	if len(op.Versions) != 1 || op.Versions[0] != "2021-07-28" {
		t.Errorf("versions = %v", op.Versions)
	}
	if got := op.Scopes(); len(got) != 1 || got[0] != "contacts.readonly" {
		t.Errorf("scopes = %v", got)
	}
	loc := Find("locations", "get-location")
	classes := map[TokenClass]bool{}
	for _, s := range loc.Security {
		classes[s.Class] = true
	}
	if !classes[Location] || !classes[Agency] {
		t.Errorf("get-location security = %+v", loc.Security)
	}
	if tok := Find("oauth", "get-access-token"); tok.Secured || tok.BodyTypes[0] != "application/x-www-form-urlencoded" {
		t.Errorf("oauth token op = %+v", tok)
	}
	if c := Find("contacts", "create-contact"); c.SuccessCode != 201 {
		t.Errorf("create-contact success = %d", c.SuccessCode)
	}
}

func TestFSHasCommonSchemas(t *testing.T) {
	if _, err := fs.Stat(FS(), "common/common-schemas.json"); err != nil {
		t.Fatal(err)
	}
}
