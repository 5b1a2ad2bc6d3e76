package spec

import (
	"io/fs"
	"strings"
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

// TestFilledScopes checks the scopes ./gen filled in where a spec's security
// block named none: each filled operation names its source and a scope in
// every alternative, and the operations GHL's Scopes.md documents carry its
// scope.
func TestFilledScopes(t *testing.T) {
	filled := 0
	for _, op := range MustOperations() {
		if op.ScopeSource == "" {
			continue
		}
		filled++
		if op.ScopeSource != "docs/oauth/Scopes.md" && !strings.HasPrefix(op.ScopeSource, "ghlkit: ") {
			t.Errorf("%s %s: scope source %q", op.Method, op.Path, op.ScopeSource)
		}
		if !op.Secured || len(op.Security) == 0 {
			t.Errorf("%s %s: filled scopes on an unsecured operation", op.Method, op.Path)
		}
		for _, alt := range op.Security {
			if len(alt.Scopes) == 0 {
				t.Errorf("%s %s: filled, yet a %s token needs no scope", op.Method, op.Path, alt.Class)
			}
		}
	}
	if filled < 14 {
		t.Errorf("only %d operations have filled scopes", filled)
	}
	for _, tc := range []struct{ ns, id, scope, source string }{
		{"locations", "get-tag-by-id", "locations/tags.readonly", "docs/oauth/Scopes.md"},
		{"locations", "delete-custom-value", "locations/customValues.write", "docs/oauth/Scopes.md"},
		{"locations", "update-custom-field", "locations/customFields.write", "docs/oauth/Scopes.md"},
		{"objects", "get-record-by-id", "objects/record.readonly", "docs/oauth/Scopes.md"},
		{"locations", "create-recurring-task", "locations/tasks.write", "ghlkit: "},
		{"locations", "DELETE-an-email-sms-template", "locations/templates.readonly", "ghlkit: "},
	} {
		op := Find(tc.ns, tc.id)
		if op == nil {
			t.Fatalf("no %s/%s", tc.ns, tc.id)
		}
		if got := op.Scopes(); len(got) != 1 || got[0] != tc.scope || !strings.HasPrefix(op.ScopeSource, tc.source) {
			t.Errorf("%s/%s: scopes %v from %q, want %s from %s", tc.ns, tc.id, got, op.ScopeSource, tc.scope, tc.source)
		}
	}
	// Operations without a security block stay without one.
	if op := Find("contacts", "create-association"); op.Secured || op.ScopeSource != "" {
		t.Errorf("create-association = %+v", op)
	}
	// Scopes the spec names itself are not marked.
	if op := Find("contacts", "get-contact"); op.ScopeSource != "" {
		t.Errorf("get-contact scope source %q", op.ScopeSource)
	}
}
