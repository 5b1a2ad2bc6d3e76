package storetest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox"
)

// testContactJSON checks the JSON read paths: GetContactJSON and searches
// with ContactQuery.JSON answer each contact exactly as sandbox.ContactJSON
// encodes it, current after updates, in the order and with the cursors of
// the decoding search.
func testContactJSON(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	loc := sandbox.NewID()
	a := newContact(loc, "Ada", "Lovelace", 1)
	a.Email = "Ada@Example.com"
	a.Tags = []string{"VIP"}
	a.CustomFields = []sandbox.CustomFieldValue{{ID: "cf1", Value: "<Gold & Co>"}}
	b := newContact(loc, "Grace", "Hopper", 2)
	b.Tags = nil // stored and answered as []
	b.CustomFields = nil
	other := newContact(sandbox.NewID(), "Alan", "Turing", 3)
	write(t, s, func(tx sandbox.Tx) error {
		for _, c := range []*sandbox.Contact{a, b, other} {
			if err := tx.InsertContact(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})

	wantDoc := func(c *sandbox.Contact) []byte {
		t.Helper()
		cp := *c
		doc, err := sandbox.ContactJSON(&cp)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	sameJSON := func(what string, got, want []byte) {
		t.Helper()
		if !bytes.Equal(bytes.TrimSpace(got), want) {
			t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
		}
	}

	read(t, s, func(tx sandbox.Tx) error {
		gotLoc, doc, err := tx.GetContactJSON(ctx, a.ID)
		if err != nil {
			return err
		}
		if gotLoc != loc {
			t.Errorf("GetContactJSON location = %q, want %q", gotLoc, loc)
		}
		sameJSON("GetContactJSON", doc, wantDoc(a))
		var m map[string]any
		if err := json.Unmarshal(doc, &m); err != nil {
			t.Fatalf("GetContactJSON answered invalid JSON: %v", err)
		}
		if m["emailLowerCase"] != "ada@example.com" || m["fullNameLowerCase"] != "ada lovelace" {
			t.Errorf("GetContactJSON lacks the lower-cased copies: %s", doc)
		}
		// The document decodes back to the contact.
		var back sandbox.Contact
		if err := json.Unmarshal(doc, &back); err != nil {
			return err
		}
		jsonEqual(t, "decoded GetContactJSON", &back, a)

		_, doc, err = tx.GetContactJSON(ctx, b.ID)
		if err != nil {
			return err
		}
		if !bytes.Contains(doc, []byte(`"tags":[]`)) || !bytes.Contains(doc, []byte(`"customFields":[]`)) {
			t.Errorf("nil tags or custom fields not answered as []: %s", doc)
		}
		_, _, err = tx.GetContactJSON(ctx, sandbox.NewID())
		wantCode(t, err, sandbox.ENOTFOUND)
		return nil
	})

	// An update replaces the document.
	u := *a
	u.FirstName, u.Email, u.DateUpdated = "Augusta", "augusta@example.com", at(5)
	write(t, s, func(tx sandbox.Tx) error { return tx.UpdateContact(ctx, &u) })
	read(t, s, func(tx sandbox.Tx) error {
		_, doc, err := tx.GetContactJSON(ctx, a.ID)
		if err != nil {
			return err
		}
		sameJSON("GetContactJSON after update", doc, wantDoc(&u))
		return nil
	})

	// A JSON search answers what the decoding search answers, as documents.
	for _, q := range []sandbox.ContactQuery{
		{LocationID: loc},
		{LocationID: loc, Sort: []sandbox.Sort{{Field: "firstName"}}},
		{LocationID: loc, Filter: &sandbox.Filter{Field: "tags", Operator: sandbox.OpEq, Value: "vip"}},
		{LocationID: loc, Limit: 1, Offset: 1},
	} {
		var plain, docs *sandbox.ContactPage
		read(t, s, func(tx sandbox.Tx) error {
			var err error
			if plain, err = tx.SearchContacts(ctx, q); err != nil {
				return err
			}
			q.JSON = true
			docs, err = tx.SearchContacts(ctx, q)
			return err
		})
		if docs.Contacts != nil {
			t.Errorf("JSON search filled Contacts too")
		}
		if len(docs.JSON) != len(plain.Contacts) || docs.Total != plain.Total {
			t.Fatalf("JSON search: %d documents, total %d; decoding search: %d contacts, total %d",
				len(docs.JSON), docs.Total, len(plain.Contacts), plain.Total)
		}
		if len(plain.Contacts) == 0 {
			t.Fatalf("query %+v matched nothing", q)
		}
		for i, c := range plain.Contacts {
			sameJSON("JSON search document", docs.JSON[i], wantDoc(c))
		}
		if !slices.EqualFunc(docs.SortValues, plain.SortValues, func(x, y []any) bool {
			gx, _ := json.Marshal(x)
			gy, _ := json.Marshal(y)
			return bytes.Equal(gx, gy)
		}) {
			t.Errorf("JSON search cursors %v, decoding search %v", docs.SortValues, plain.SortValues)
		}
	}
}

// testLegacyContactDocs checks migration 0011 of the SQL stores: contacts
// stored before it, as the bare contact without GHL's lower-cased copies,
// are re-encoded when a store opens, so that JSON reads answer them whole.
// The stores open must expose their write pool (WriteDB, as sqlstore's do)
// and record migrations in schema_migrations.
func testLegacyContactDocs(t *testing.T, open func(t *testing.T) sandbox.Store) {
	ctx := context.Background()
	s := open(t)
	pool, ok := s.(interface{ WriteDB() *sql.DB })
	if !ok {
		t.Skipf("%T does not expose its database", s)
	}
	loc := sandbox.NewID()
	c := newContact(loc, "Ada", "Lovelace", 1)
	c.Email = "Ada@Example.com"
	write(t, s, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, c) })
	legacy := *c
	legacy.Tags = nil
	bare, err := json.Marshal(&legacy) // the pre-0011 document: no lower-cased copies, tags null
	if err != nil {
		t.Fatal(err)
	}
	db := pool.WriteDB()
	for _, stmt := range []string{
		`UPDATE contacts SET data = '` + strings.ReplaceAll(string(bare), `'`, `''`) + `' WHERE id = '` + c.ID + `'`,
		`DELETE FROM schema_migrations WHERE version = '0011_contact_api_json'`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t)
	defer s.Close()
	read(t, s, func(tx sandbox.Tx) error {
		_, doc, err := tx.GetContactJSON(ctx, c.ID)
		if err != nil {
			return err
		}
		want, err := sandbox.ContactJSON(c)
		if err != nil {
			return err
		}
		if !bytes.Equal(doc, want) {
			t.Errorf("after migration:\n got %s\nwant %s", doc, want)
		}
		return nil
	})
}
