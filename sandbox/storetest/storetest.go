// Package storetest is the conformance suite every sandbox.Store must pass,
// in the manner of river's riverdrivertest: one set of tests, run by each
// driver's own test against its database.
//
//	func TestStore(t *testing.T) {
//		storetest.Exercise(t, func(t *testing.T) sandbox.Store { … a fresh, empty store … })
//	}
//
// Beyond the sandbox.Store contract the suite expects, as the SQL stores
// implement: InsertContact and AppendEvent refuse an existing ID with
// ECONFLICT, and DeleteContact deletes the notes, tasks and enrollments
// whose ParentID is the contact.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// Exercise runs the conformance suite. newStore returns a new, empty store
// on every call and closes it when the test ends (t.Cleanup).
func Exercise(t *testing.T, newStore func(t *testing.T) sandbox.Store) {
	t.Run("Records", func(t *testing.T) { testRecords(t, newStore(t)) })
	t.Run("RecordErrors", func(t *testing.T) { testRecordErrors(t, newStore(t)) })
	t.Run("Contacts", func(t *testing.T) { testContacts(t, newStore(t)) })
	t.Run("ContactJSON", func(t *testing.T) { testContactJSON(t, newStore(t)) })
	t.Run("ContactDelete", func(t *testing.T) { testContactDelete(t, newStore(t)) })
	t.Run("BulkInsert", func(t *testing.T) { testBulkInsert(t, newStore(t)) })
	t.Run("Lookup", func(t *testing.T) { testLookup(t, newStore(t)) })
	t.Run("Search", func(t *testing.T) { testSearch(t, newStore(t)) })
	t.Run("SearchErrors", func(t *testing.T) { testSearchErrors(t, newStore(t)) })
	t.Run("SearchPaging", func(t *testing.T) { testSearchPaging(t, newStore(t)) })
	t.Run("WriteRollback", func(t *testing.T) { testWriteRollback(t, newStore(t)) })
	t.Run("WritePanic", func(t *testing.T) { testWritePanic(t, newStore(t)) })
	t.Run("ReadOnly", func(t *testing.T) { testReadOnly(t, newStore(t)) })
	t.Run("ReadSnapshot", func(t *testing.T) { testReadSnapshot(t, newStore(t)) })
	t.Run("Events", func(t *testing.T) { testEvents(t, newStore(t)) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrentWriters(t, newStore(t)) })
	t.Run("TagTotals", func(t *testing.T) { testTagTotals(t, newStore(t)) })
	t.Run("ConcurrentFailures", func(t *testing.T) { testConcurrentFailures(t, newStore(t)) })
	t.Run("WriteReads", func(t *testing.T) { testWriteReads(t, newStore(t)) })
}

// ExerciseReopen tests what outlives a store and what two stores on one
// database share. open returns a store on the same database on every call
// (the first call finds it empty); the test closes the stores it opens.
func ExerciseReopen(t *testing.T, open func(t *testing.T) sandbox.Store) {
	t.Run("Persistence", func(t *testing.T) { testPersistence(t, open) })
	t.Run("TwoStores", func(t *testing.T) { testTwoStores(t, open) })
	t.Run("LegacyContactDocs", func(t *testing.T) { testLegacyContactDocs(t, open) })
}

// write runs fn in a Write transaction and fails the test on error.
func write(t testing.TB, s sandbox.Store, fn func(tx sandbox.Tx) error) {
	t.Helper()
	if err := s.Write(context.Background(), fn); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// read runs fn in a Read transaction and fails the test on error.
func read(t testing.TB, s sandbox.Store, fn func(tx sandbox.Tx) error) {
	t.Helper()
	if err := s.Read(context.Background(), fn); err != nil {
		t.Fatalf("Read: %v", err)
	}
}

// wantCode fails the test unless err carries code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := sandbox.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (err %v), want %q", got, err, code)
	}
}

// jsonEqual fails the test unless a and b marshal to the same JSON.
func jsonEqual(t testing.TB, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// at returns t0 plus h hours as a sandbox.Time.
func at(h float64) sandbox.Time {
	return sandbox.Time{Time: t0.Add(time.Duration(h * float64(time.Hour)))}
}

// ms returns t0 plus h hours in epoch milliseconds.
func ms(h float64) int64 { return at(h).UnixMilli() }

func testRecords(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	loc1, loc2 := sandbox.NewID(), sandbox.NewID()
	mk := func(kind sandbox.Kind, id, loc, company, parent, key string, h float64) *sandbox.Record {
		return &sandbox.Record{
			Kind: kind, ID: id, LocationID: loc, CompanyID: company, ParentID: parent, Key: key,
			CreatedAt: at(h).Time, UpdatedAt: at(h + 1).Time,
			Data: json.RawMessage(fmt.Sprintf(`{"id":%q,"n":%v}`, id, h)),
		}
	}
	// Created out of order; "b" and "a" share a timestamp, so ID breaks the tie.
	recs := []*sandbox.Record{
		mk(sandbox.KindTag, "c", loc1, "co1", "", "vip", 3),
		mk(sandbox.KindTag, "b", loc1, "co1", "", "lead", 1),
		mk(sandbox.KindTag, "a", loc1, "co1", "", "hot", 1),
		mk(sandbox.KindTag, "d", loc2, "co2", "", "vip", 2),
		mk(sandbox.KindNote, "a", loc1, "co1", "contact1", "", 0), // same ID, other kind
		mk(sandbox.KindNote, "n2", loc1, "co1", "contact1", "", 5),
		mk(sandbox.KindNote, "n3", loc1, "co1", "contact2", "", 4),
	}
	write(t, s, func(tx sandbox.Tx) error {
		for _, r := range recs {
			if err := tx.PutRecord(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})

	ids := func(rs []*sandbox.Record) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	read(t, s, func(tx sandbox.Tx) error {
		got, err := tx.GetRecord(ctx, sandbox.KindTag, "c")
		if err != nil {
			return err
		}
		want := recs[0]
		if got.Kind != want.Kind || got.ID != want.ID || got.LocationID != want.LocationID ||
			got.CompanyID != want.CompanyID || got.ParentID != want.ParentID || got.Key != want.Key ||
			!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) ||
			string(got.Data) != string(want.Data) {
			t.Errorf("GetRecord = %+v (data %s), want %+v (data %s)", got, got.Data, want, want.Data)
		}
		note, err := tx.GetRecord(ctx, sandbox.KindNote, "a")
		if err != nil {
			return err
		}
		if note.ParentID != "contact1" {
			t.Errorf("note a: ParentID = %q: records of different kinds with the same ID must not collide", note.ParentID)
		}

		for _, c := range []struct {
			name string
			q    sandbox.RecordQuery
			want []string
		}{
			{"kind", sandbox.RecordQuery{Kind: sandbox.KindTag}, []string{"a", "b", "d", "c"}},
			{"location", sandbox.RecordQuery{Kind: sandbox.KindTag, LocationID: loc1}, []string{"a", "b", "c"}},
			{"company", sandbox.RecordQuery{Kind: sandbox.KindTag, CompanyID: "co2"}, []string{"d"}},
			{"key", sandbox.RecordQuery{Kind: sandbox.KindTag, Key: "vip"}, []string{"d", "c"}},
			{"location+key", sandbox.RecordQuery{Kind: sandbox.KindTag, LocationID: loc1, Key: "vip"}, []string{"c"}},
			{"parent", sandbox.RecordQuery{Kind: sandbox.KindNote, ParentID: "contact1"}, []string{"a", "n2"}},
			{"limit", sandbox.RecordQuery{Kind: sandbox.KindTag, Limit: 2}, []string{"a", "b"}},
			{"offset+limit", sandbox.RecordQuery{Kind: sandbox.KindTag, Offset: 1, Limit: 2}, []string{"b", "d"}},
			{"offset", sandbox.RecordQuery{Kind: sandbox.KindTag, Offset: 3}, []string{"c"}},
			{"past end", sandbox.RecordQuery{Kind: sandbox.KindTag, Offset: 10}, nil},
			{"no match", sandbox.RecordQuery{Kind: sandbox.KindTag, LocationID: "nowhere"}, nil},
			{"other kind", sandbox.RecordQuery{Kind: sandbox.KindApp}, nil},
		} {
			got, err := tx.ListRecords(ctx, c.q)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if !slices.Equal(ids(got), c.want) {
				t.Errorf("ListRecords(%s) = %v, want %v", c.name, ids(got), c.want)
			}
			n, err := tx.CountRecords(ctx, c.q)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			full := c.q
			full.Offset, full.Limit = 0, 0
			all, err := tx.ListRecords(ctx, full)
			if err != nil {
				return err
			}
			if n != len(all) {
				t.Errorf("CountRecords(%s) = %d, want %d (ignoring offset and limit)", c.name, n, len(all))
			}
		}
		return nil
	})

	// PutRecord replaces; DeleteRecord removes one kind's record only.
	write(t, s, func(tx sandbox.Tx) error {
		r := mk(sandbox.KindTag, "c", loc2, "co2", "p", "cold", 0.5)
		r.Data = json.RawMessage(`{"replaced":true}`)
		if err := tx.PutRecord(ctx, r); err != nil {
			return err
		}
		return tx.DeleteRecord(ctx, sandbox.KindTag, "a")
	})
	read(t, s, func(tx sandbox.Tx) error {
		got, err := tx.GetRecord(ctx, sandbox.KindTag, "c")
		if err != nil {
			return err
		}
		if got.Key != "cold" || got.LocationID != loc2 || got.ParentID != "p" || string(got.Data) != `{"replaced":true}` || !got.CreatedAt.Equal(at(0.5).Time) {
			t.Errorf("after replace: %+v data %s", got, got.Data)
		}
		list, err := tx.ListRecords(ctx, sandbox.RecordQuery{Kind: sandbox.KindTag, Key: "vip"})
		if err != nil {
			return err
		}
		if !slices.Equal(ids(list), []string{"d"}) {
			t.Errorf("index not updated on replace: key vip lists %v", ids(list))
		}
		if _, err := tx.GetRecord(ctx, sandbox.KindTag, "a"); !sandbox.IsNotFound(err) {
			t.Errorf("deleted record: err = %v, want ENOTFOUND", err)
		}
		if _, err := tx.GetRecord(ctx, sandbox.KindNote, "a"); err != nil {
			t.Errorf("note a deleted with tag a: %v", err)
		}
		return nil
	})

	// Data round-trips as given, including a nil document.
	write(t, s, func(tx sandbox.Tx) error {
		return tx.PutRecord(ctx, &sandbox.Record{Kind: sandbox.KindSetting, ID: "nil", Key: "x", CreatedAt: t0, UpdatedAt: t0})
	})
	read(t, s, func(tx sandbox.Tx) error {
		got, err := tx.GetRecord(ctx, sandbox.KindSetting, "nil")
		if err != nil {
			return err
		}
		if len(got.Data) != 0 {
			t.Errorf("nil Data read back as %q", got.Data)
		}
		return nil
	})
}

func testRecordErrors(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	read(t, s, func(tx sandbox.Tx) error {
		_, err := tx.GetRecord(ctx, sandbox.KindLocation, "missing")
		wantCode(t, err, sandbox.ENOTFOUND)
		n, err := tx.CountRecords(ctx, sandbox.RecordQuery{Kind: sandbox.KindLocation})
		if err != nil || n != 0 {
			t.Errorf("CountRecords on empty store = %d, %v", n, err)
		}
		list, err := tx.ListRecords(ctx, sandbox.RecordQuery{Kind: sandbox.KindLocation})
		if err != nil || len(list) != 0 {
			t.Errorf("ListRecords on empty store = %v, %v", list, err)
		}
		return nil
	})
	err := s.Write(ctx, func(tx sandbox.Tx) error { return tx.DeleteRecord(ctx, sandbox.KindLocation, "missing") })
	wantCode(t, err, sandbox.ENOTFOUND)
	// A document that is not JSON is refused alike by every store.
	err = s.Write(ctx, func(tx sandbox.Tx) error {
		return tx.PutRecord(ctx, &sandbox.Record{Kind: sandbox.KindLocation, ID: "bad", CreatedAt: t0, UpdatedAt: t0, Data: json.RawMessage(`{"a":`)})
	})
	wantCode(t, err, sandbox.EINVALID)
}

// newContact returns a contact of loc with the fields every test sets.
func newContact(loc, first, last string, h float64) *sandbox.Contact {
	return &sandbox.Contact{
		ID: sandbox.NewID(), LocationID: loc, FirstName: first, LastName: last,
		Name: first + " " + last, DateAdded: at(h), DateUpdated: at(h),
		Tags: []string{}, CustomFields: []sandbox.CustomFieldValue{},
	}
}

func testContacts(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	loc := sandbox.NewID()
	c := newContact(loc, "Ada", "Lovelace", 1)
	c.Email = "Ada@Example.com"
	c.Phone = "+14155550100"
	c.CompanyName = "Analytical Engines"
	c.Tags = []string{"VIP", "Lead"}
	c.CustomFields = []sandbox.CustomFieldValue{{ID: "cf1", Value: "Gold"}, {ID: "cf2", Value: 42.0}}
	c.DndSettings = map[string]sandbox.DndSetting{"SMS": {Status: "active"}}
	c.AttributionSource = json.RawMessage(`{"medium":"web"}`)
	write(t, s, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, c) })

	read(t, s, func(tx sandbox.Tx) error {
		got, err := tx.GetContact(ctx, c.ID)
		if err != nil {
			return err
		}
		jsonEqual(t, "GetContact", got, c)
		return nil
	})

	err := s.Write(ctx, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, c) })
	wantCode(t, err, sandbox.ECONFLICT)

	search := func(f sandbox.Filter) []string {
		t.Helper()
		var ids []string
		read(t, s, func(tx sandbox.Tx) error {
			p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc, Filter: &f})
			if err != nil {
				return err
			}
			for _, c := range p.Contacts {
				ids = append(ids, c.ID)
			}
			return nil
		})
		return ids
	}
	eq := func(field string, v any) sandbox.Filter {
		return sandbox.Filter{Field: field, Operator: sandbox.OpEq, Value: v}
	}
	if got := search(eq("tags", "vip")); !slices.Equal(got, []string{c.ID}) {
		t.Fatalf("tag vip before update: %v", got)
	}

	// Update replaces the document, the indexed columns, the tags and the
	// custom values.
	u := *c
	u.Email = "ada@engines.example"
	u.Tags = []string{"Customer"}
	u.CustomFields = []sandbox.CustomFieldValue{{ID: "cf1", Value: "Silver"}}
	u.Dnd = true
	u.DateUpdated = at(2)
	write(t, s, func(tx sandbox.Tx) error { return tx.UpdateContact(ctx, &u) })
	read(t, s, func(tx sandbox.Tx) error {
		got, err := tx.GetContact(ctx, c.ID)
		if err != nil {
			return err
		}
		jsonEqual(t, "GetContact after update", got, &u)
		return nil
	})
	for _, tc := range []struct {
		f    sandbox.Filter
		want []string
	}{
		{eq("tags", "vip"), nil},
		{eq("tags", "lead"), nil},
		{eq("tags", "customer"), []string{c.ID}},
		{eq("customFields.cf1", "gold"), nil},
		{eq("customFields.cf1", "silver"), []string{c.ID}},
		{sandbox.Filter{Field: "customFields.cf2", Operator: sandbox.OpExists}, nil},
		{eq("email", "ada@example.com"), nil},
		{eq("email", "ADA@engines.example"), []string{c.ID}},
		{eq("dnd", true), []string{c.ID}},
	} {
		if got := search(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("after update, %s %s %v: %v, want %v", tc.f.Field, tc.f.Operator, tc.f.Value, got, tc.want)
		}
	}

	missing := newContact(loc, "No", "One", 1)
	err = s.Write(ctx, func(tx sandbox.Tx) error { return tx.UpdateContact(ctx, missing) })
	wantCode(t, err, sandbox.ENOTFOUND)
	read(t, s, func(tx sandbox.Tx) error {
		_, err := tx.GetContact(ctx, missing.ID)
		wantCode(t, err, sandbox.ENOTFOUND)
		return nil
	})
}

func testContactDelete(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	loc := sandbox.NewID()
	c := newContact(loc, "Grace", "Hopper", 1)
	c.Email = "grace@example.com"
	c.Tags = []string{"navy"}
	c.CustomFields = []sandbox.CustomFieldValue{{ID: "rank", Value: "Admiral"}}
	other := newContact(loc, "Alan", "Turing", 2)
	other.Tags = []string{"navy"}
	child := func(kind sandbox.Kind, id, parent string) *sandbox.Record {
		return &sandbox.Record{Kind: kind, ID: id, LocationID: loc, ParentID: parent, CreatedAt: t0, UpdatedAt: t0, Data: json.RawMessage(`{}`)}
	}
	write(t, s, func(tx sandbox.Tx) error {
		for _, x := range []*sandbox.Contact{c, other} {
			if err := tx.InsertContact(ctx, x); err != nil {
				return err
			}
		}
		for _, r := range []*sandbox.Record{
			child(sandbox.KindNote, "note1", c.ID), child(sandbox.KindTask, "task1", c.ID),
			child(sandbox.KindEnrollment, "enr1", c.ID), child(sandbox.KindNote, "note2", other.ID),
			child(sandbox.KindCustomField, "cf", c.ID), // not a child kind: kept
		} {
			if err := tx.PutRecord(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	write(t, s, func(tx sandbox.Tx) error { return tx.DeleteContact(ctx, c.ID) })
	read(t, s, func(tx sandbox.Tx) error {
		_, err := tx.GetContact(ctx, c.ID)
		wantCode(t, err, sandbox.ENOTFOUND)
		for _, k := range []struct {
			kind sandbox.Kind
			id   string
			gone bool
		}{
			{sandbox.KindNote, "note1", true}, {sandbox.KindTask, "task1", true},
			{sandbox.KindEnrollment, "enr1", true}, {sandbox.KindNote, "note2", false},
			{sandbox.KindCustomField, "cf", false},
		} {
			_, err := tx.GetRecord(ctx, k.kind, k.id)
			if gone := sandbox.IsNotFound(err); gone != k.gone || (err != nil && !gone) {
				t.Errorf("%s %s after DeleteContact: err = %v, want gone=%v", k.kind, k.id, err, k.gone)
			}
		}
		p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc,
			Filter: &sandbox.Filter{Field: "tags", Operator: sandbox.OpEq, Value: "navy"}})
		if err != nil {
			return err
		}
		if len(p.Contacts) != 1 || p.Contacts[0].ID != other.ID || p.Total != 1 {
			t.Errorf("tag search after delete: %d contacts, total %d", len(p.Contacts), p.Total)
		}
		found, err := tx.LookupContacts(ctx, sandbox.ContactLookup{LocationID: loc, Email: c.Email})
		if err != nil {
			return err
		}
		if len(found) != 0 {
			t.Errorf("lookup finds deleted contact")
		}
		return nil
	})
	err := s.Write(ctx, func(tx sandbox.Tx) error { return tx.DeleteContact(ctx, c.ID) })
	wantCode(t, err, sandbox.ENOTFOUND)

	// The ID is free again, with no stale tags or custom values.
	again := newContact(loc, "Grace", "Again", 3)
	again.ID = c.ID
	write(t, s, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, again) })
	read(t, s, func(tx sandbox.Tx) error {
		p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc,
			Filter: &sandbox.Filter{Field: "customFields.rank", Operator: sandbox.OpExists}})
		if err != nil {
			return err
		}
		if len(p.Contacts) != 0 {
			t.Errorf("re-inserted contact has stale custom values")
		}
		return nil
	})
}

// testBulkInsert checks that contacts inserted through BulkInserter, when
// the store has it, are stored as InsertContact stores them.
func testBulkInsert(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	loc := sandbox.NewID()
	var cs []*sandbox.Contact
	for i := range 250 { // more than one statement's worth
		c := newContact(loc, fmt.Sprintf("Bulk%d", i), "Load", float64(i))
		c.Email = fmt.Sprintf("bulk%d@example.com", i)
		c.Tags = []string{"bulk", fmt.Sprintf("b%d", i%3)}
		c.CustomFields = []sandbox.CustomFieldValue{{ID: "n", Value: float64(i)}}
		cs = append(cs, c)
	}
	supported := true
	write(t, s, func(tx sandbox.Tx) error {
		bulk, ok := tx.(BulkInserter)
		if !ok {
			supported = false
			return nil
		}
		return bulk.InsertContacts(ctx, cs)
	})
	if !supported {
		t.Skip("the store's Tx has no InsertContacts")
	}
	read(t, s, func(tx sandbox.Tx) error {
		got, err := tx.GetContact(ctx, cs[137].ID)
		if err != nil {
			return err
		}
		jsonEqual(t, "bulk-inserted contact", got, cs[137])
		for _, tc := range []struct {
			f    *sandbox.Filter
			want int
		}{
			{&sandbox.Filter{Field: "tags", Operator: sandbox.OpEq, Value: "bulk"}, 250},
			{&sandbox.Filter{Field: "tags", Operator: sandbox.OpEq, Value: "b1"}, 83},
			{&sandbox.Filter{Field: "customFields.n", Operator: sandbox.OpRange, Value: &sandbox.Range{GTE: 200.0}}, 50},
			{&sandbox.Filter{Field: "email", Operator: sandbox.OpEq, Value: "BULK42@example.com"}, 1},
		} {
			p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc, Filter: tc.f, Limit: 10})
			if err != nil {
				return err
			}
			if p.Total != tc.want {
				t.Errorf("%s %s %v: total %d, want %d", tc.f.Field, tc.f.Operator, tc.f.Value, p.Total, tc.want)
			}
		}
		return nil
	})
	// A batch with an existing ID fails whole.
	dup := newContact(loc, "Dup", "Licate", 1)
	err := s.Write(ctx, func(tx sandbox.Tx) error {
		return tx.(BulkInserter).InsertContacts(ctx, []*sandbox.Contact{dup, cs[0]})
	})
	wantCode(t, err, sandbox.ECONFLICT)
	read(t, s, func(tx sandbox.Tx) error {
		_, err := tx.GetContact(ctx, dup.ID)
		wantCode(t, err, sandbox.ENOTFOUND)
		return nil
	})
}

func testLookup(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	loc, otherLoc := sandbox.NewID(), sandbox.NewID()
	a := newContact(loc, "A", "One", 3)
	a.Email, a.Phone = "Dup@Example.com", "+15550001111"
	b := newContact(loc, "B", "Two", 1) // older
	b.Email = "dup@example.com"
	c := newContact(loc, "C", "Three", 2)
	c.Phone = "+15550001111"
	d := newContact(otherLoc, "D", "Four", 0)
	d.Email, d.Phone = "dup@example.com", "+15550001111"
	write(t, s, func(tx sandbox.Tx) error {
		for _, x := range []*sandbox.Contact{a, b, c, d} {
			if err := tx.InsertContact(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx sandbox.Tx) error {
		for _, tc := range []struct {
			name string
			l    sandbox.ContactLookup
			want []string
		}{
			{"email any case", sandbox.ContactLookup{LocationID: loc, Email: "DUP@example.COM"}, []string{b.ID, a.ID}},
			{"phone", sandbox.ContactLookup{LocationID: loc, Phone: "+15550001111"}, []string{c.ID, a.ID}},
			{"either", sandbox.ContactLookup{LocationID: loc, Email: "dup@example.com", Phone: "+15550001111"}, []string{b.ID, c.ID, a.ID}},
			{"limit", sandbox.ContactLookup{LocationID: loc, Email: "dup@example.com", Limit: 1}, []string{b.ID}},
			{"other location", sandbox.ContactLookup{LocationID: otherLoc, Email: "dup@example.com"}, []string{d.ID}},
			{"no match", sandbox.ContactLookup{LocationID: loc, Email: "nobody@example.com"}, nil},
			{"empty", sandbox.ContactLookup{LocationID: loc}, nil},
		} {
			got, err := tx.LookupContacts(ctx, tc.l)
			if err != nil {
				return fmt.Errorf("%s: %w", tc.name, err)
			}
			var ids []string
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("LookupContacts(%s) = %v, want %v", tc.name, ids, tc.want)
			}
		}
		return nil
	})
}

func testWriteRollback(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	loc := sandbox.NewID()
	c := newContact(loc, "Roll", "Back", 1)
	c.Email = "roll@example.com"
	c.Tags = []string{"gone"}
	ev := &sandbox.Event{ID: sandbox.NewID(), Type: "ContactCreate", LocationID: loc, CreatedAt: t0, Payload: json.RawMessage(`{"type":"ContactCreate"}`)}
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx sandbox.Tx) error {
		if err := tx.PutRecord(ctx, &sandbox.Record{Kind: sandbox.KindLocation, ID: loc, CreatedAt: t0, UpdatedAt: t0, Data: json.RawMessage(`{}`)}); err != nil {
			return err
		}
		if err := tx.InsertContact(ctx, c); err != nil {
			return err
		}
		if err := tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
		// The transaction sees its own writes.
		if _, err := tx.GetContact(ctx, c.ID); err != nil {
			return fmt.Errorf("own write invisible: %w", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write returned %v, want the error of fn", err)
	}
	read(t, s, func(tx sandbox.Tx) error {
		_, err := tx.GetRecord(ctx, sandbox.KindLocation, loc)
		wantCode(t, err, sandbox.ENOTFOUND)
		_, err = tx.GetContact(ctx, c.ID)
		wantCode(t, err, sandbox.ENOTFOUND)
		p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc})
		if err != nil {
			return err
		}
		if len(p.Contacts) != 0 || p.Total != 0 {
			t.Errorf("search after rollback: %d contacts, total %d", len(p.Contacts), p.Total)
		}
		return nil
	})
	// The event is gone too: its ID is free.
	write(t, s, func(tx sandbox.Tx) error { return tx.AppendEvent(ctx, ev) })
	// And the contact's ID, tags included.
	write(t, s, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, c) })
}

func testWritePanic(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	c := newContact(sandbox.NewID(), "Pan", "Ic", 1)
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("Write swallowed the panic of fn")
			}
		}()
		_ = s.Write(ctx, func(tx sandbox.Tx) error {
			if err := tx.InsertContact(ctx, c); err != nil {
				return err
			}
			panic("fn panics")
		})
	}()
	read(t, s, func(tx sandbox.Tx) error {
		_, err := tx.GetContact(ctx, c.ID)
		wantCode(t, err, sandbox.ENOTFOUND)
		return nil
	})
	// The store is usable after the panic.
	write(t, s, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, c) })
}

func testReadOnly(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	c := newContact(sandbox.NewID(), "Read", "Only", 1)
	err := s.Read(ctx, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, c) })
	if err == nil {
		t.Errorf("InsertContact in a Read transaction succeeded")
	}
	err = s.Read(ctx, func(tx sandbox.Tx) error {
		return tx.PutRecord(ctx, &sandbox.Record{Kind: sandbox.KindTag, ID: "x", CreatedAt: t0, UpdatedAt: t0})
	})
	if err == nil {
		t.Errorf("PutRecord in a Read transaction succeeded")
	}
	read(t, s, func(tx sandbox.Tx) error {
		if _, err := tx.GetContact(ctx, c.ID); !sandbox.IsNotFound(err) {
			t.Errorf("contact written in a Read transaction: %v", err)
		}
		return nil
	})
	boom := errors.New("boom")
	if err := s.Read(ctx, func(sandbox.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Read returned %v, want the error of fn", err)
	}

	// A store's loose reads refuse writes just the same, and see what is
	// committed.
	lr, ok := s.(sandbox.LooseReader)
	if !ok {
		return
	}
	if err := lr.ReadLoose(ctx, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, c) }); err == nil {
		t.Errorf("InsertContact in ReadLoose succeeded")
	}
	if err := lr.ReadLoose(ctx, func(tx sandbox.Tx) error { return tx.DeleteContact(ctx, c.ID) }); err == nil {
		t.Errorf("DeleteContact in ReadLoose succeeded")
	}
	write(t, s, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, c) })
	err = lr.ReadLoose(ctx, func(tx sandbox.Tx) error {
		loc, _, err := tx.GetContactJSON(ctx, c.ID)
		if err == nil && loc != c.LocationID {
			t.Errorf("ReadLoose read location %q, want %q", loc, c.LocationID)
		}
		if err != nil {
			return err
		}
		p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: c.LocationID, JSON: true})
		if err == nil && (len(p.JSON) != 1 || p.Total != 1) {
			t.Errorf("ReadLoose search: %d documents, total %d", len(p.JSON), p.Total)
		}
		return err
	})
	if err != nil {
		t.Errorf("ReadLoose: %v", err)
	}
	if err := lr.ReadLoose(ctx, func(sandbox.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("ReadLoose returned %v, want the error of fn", err)
	}
}

func testReadSnapshot(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	loc := sandbox.NewID()
	write(t, s, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, newContact(loc, "First", "One", 1)) })
	count := func(tx sandbox.Tx) int {
		p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc})
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	second := newContact(loc, "Second", "Two", 2)
	read(t, s, func(tx sandbox.Tx) error {
		if n := count(tx); n != 1 {
			t.Fatalf("count = %d, want 1", n)
		}
		// A writer commits while this transaction is open …
		done := make(chan error, 1)
		go func() {
			done <- s.Write(ctx, func(wtx sandbox.Tx) error { return wtx.InsertContact(ctx, second) })
		}()
		if err := <-done; err != nil {
			return err
		}
		// … and this transaction goes on seeing its snapshot.
		if n := count(tx); n != 1 {
			t.Errorf("count in the same Read after a commit = %d, want 1 (a consistent snapshot)", n)
		}
		if _, err := tx.GetContact(ctx, second.ID); !sandbox.IsNotFound(err) {
			t.Errorf("GetContact of a contact committed after the snapshot: err = %v", err)
		}
		return nil
	})
	read(t, s, func(tx sandbox.Tx) error {
		if n := count(tx); n != 2 {
			t.Errorf("count in a new Read = %d, want 2", n)
		}
		return nil
	})
}

func testEvents(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	ev := func() *sandbox.Event {
		return &sandbox.Event{ID: sandbox.NewID(), Type: "ContactCreate", LocationID: "loc", CompanyID: "co",
			CreatedAt: t0, Payload: json.RawMessage(`{"type":"ContactCreate","locationId":"loc"}`)}
	}
	e1, e2 := ev(), ev()
	write(t, s, func(tx sandbox.Tx) error {
		if err := tx.AppendEvent(ctx, e1); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, e2)
	})
	err := s.Write(ctx, func(tx sandbox.Tx) error { return tx.AppendEvent(ctx, e1) })
	wantCode(t, err, sandbox.ECONFLICT)

	// An event appended in a rolled-back transaction is gone: its ID is free.
	e3 := ev()
	boom := errors.New("boom")
	if err := s.Write(ctx, func(tx sandbox.Tx) error {
		if err := tx.AppendEvent(ctx, e3); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Write = %v", err)
	}
	write(t, s, func(tx sandbox.Tx) error { return tx.AppendEvent(ctx, e3) })
}

func testConcurrentWriters(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	loc := sandbox.NewID()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				c := newContact(loc, fmt.Sprintf("W%d", w), fmt.Sprintf("N%d", i), float64(i))
				c.Tags = []string{fmt.Sprintf("writer-%d", w)}
				err := s.Write(ctx, func(tx sandbox.Tx) error {
					if err := tx.InsertContact(ctx, c); err != nil {
						return err
					}
					return tx.AppendEvent(ctx, &sandbox.Event{ID: sandbox.NewID(), Type: "ContactCreate", LocationID: loc, CreatedAt: t0, Payload: json.RawMessage(`{}`)})
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Write: %v", err)
	}
	read(t, s, func(tx sandbox.Tx) error {
		p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc, Limit: 1})
		if err != nil {
			return err
		}
		if p.Total != writers*each {
			t.Errorf("after %d×%d concurrent inserts, total = %d", writers, each, p.Total)
		}
		p, err = tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc, Limit: 1,
			Filter: &sandbox.Filter{Field: "tags", Operator: sandbox.OpEq, Value: "writer-3"}})
		if err != nil {
			return err
		}
		if p.Total != each {
			t.Errorf("writer-3 total = %d, want %d", p.Total, each)
		}
		return nil
	})
}

func testPersistence(t *testing.T, open func(t *testing.T) sandbox.Store) {
	ctx := context.Background()
	loc := sandbox.NewID()
	c := newContact(loc, "Per", "Sistent", 1)
	c.Email = "persist@example.com"
	c.Tags = []string{"kept"}
	c.CustomFields = []sandbox.CustomFieldValue{{ID: "cf", Value: 7.0}}
	rec := &sandbox.Record{Kind: sandbox.KindLocation, ID: loc, CreatedAt: t0, UpdatedAt: t0, Data: json.RawMessage(`{"name":"Kept"}`)}
	ev := &sandbox.Event{ID: sandbox.NewID(), Type: "ContactCreate", LocationID: loc, CreatedAt: t0, Payload: json.RawMessage(`{}`)}

	s1 := open(t)
	write(t, s1, func(tx sandbox.Tx) error {
		if err := tx.PutRecord(ctx, rec); err != nil {
			return err
		}
		if err := tx.InsertContact(ctx, c); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, ev)
	})
	if err := s1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s2 := open(t)
	defer s2.Close()
	read(t, s2, func(tx sandbox.Tx) error {
		got, err := tx.GetContact(ctx, c.ID)
		if err != nil {
			return err
		}
		jsonEqual(t, "contact after reopen", got, c)
		r, err := tx.GetRecord(ctx, sandbox.KindLocation, loc)
		if err != nil {
			return err
		}
		if string(r.Data) != string(rec.Data) {
			t.Errorf("record after reopen: %s", r.Data)
		}
		p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc, Filter: &sandbox.Filter{Group: "AND", Filters: []sandbox.Filter{
			{Field: "tags", Operator: sandbox.OpEq, Value: "kept"},
			{Field: "customFields.cf", Operator: sandbox.OpRange, Value: &sandbox.Range{GTE: 7.0}},
		}}})
		if err != nil {
			return err
		}
		if len(p.Contacts) != 1 {
			t.Errorf("search after reopen found %d contacts", len(p.Contacts))
		}
		return nil
	})
	err := s2.Write(ctx, func(tx sandbox.Tx) error { return tx.AppendEvent(ctx, ev) })
	wantCode(t, err, sandbox.ECONFLICT)
}

func testTwoStores(t *testing.T, open func(t *testing.T) sandbox.Store) {
	ctx := context.Background()
	a, b := open(t), open(t)
	defer a.Close()
	defer b.Close()
	loc := sandbox.NewID()

	ca := newContact(loc, "Via", "A", 1)
	ca.Email = "via-a@example.com"
	write(t, a, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, ca) })
	read(t, b, func(tx sandbox.Tx) error {
		got, err := tx.LookupContacts(ctx, sandbox.ContactLookup{LocationID: loc, Email: "VIA-A@example.com"})
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0].ID != ca.ID {
			t.Errorf("store b does not see store a's contact: %v", got)
		}
		return nil
	})
	cb := *ca
	cb.Email = "via-b@example.com"
	write(t, b, func(tx sandbox.Tx) error { return tx.UpdateContact(ctx, &cb) })
	read(t, a, func(tx sandbox.Tx) error {
		got, err := tx.GetContact(ctx, ca.ID)
		if err != nil {
			return err
		}
		if got.Email != "via-b@example.com" {
			t.Errorf("store a reads email %q after store b's update", got.Email)
		}
		return nil
	})

	// Writers of both stores interleave; every write lands once.
	const each = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i, s := range []sandbox.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				c := newContact(loc, fmt.Sprintf("S%d", i), fmt.Sprintf("N%d", j), 2)
				if err := s.Write(ctx, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, c) }); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Write: %v", err)
	}
	for _, s := range []sandbox.Store{a, b} {
		read(t, s, func(tx sandbox.Tx) error {
			p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc, Limit: 1})
			if err != nil {
				return err
			}
			if p.Total != 1+2*each {
				t.Errorf("total = %d, want %d", p.Total, 1+2*each)
			}
			return nil
		})
	}
}

// testConcurrentFailures runs many concurrent writers of which every third
// fails after writing, and some panic: whatever a store does to batch
// writers, exactly the successful writers' changes and events must land,
// and each caller must see its own outcome.
func testConcurrentFailures(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	loc := sandbox.NewID()
	const n = 120
	var wg sync.WaitGroup
	results := make([]error, n)
	panics := make([]any, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			c := newContact(loc, "F", fmt.Sprintf("N%d", i), float64(i))
			c.Tags = []string{fmt.Sprintf("i-%d", i)}
			results[i] = s.Write(ctx, func(tx sandbox.Tx) error {
				if err := tx.InsertContact(ctx, c); err != nil {
					return err
				}
				if err := tx.AppendEvent(ctx, &sandbox.Event{ID: fmt.Sprintf("ev-%s-%d", loc, i), Type: "ContactCreate", LocationID: loc, CreatedAt: t0, Payload: json.RawMessage(`{}`)}); err != nil {
					return err
				}
				switch {
				case i%10 == 7:
					panic(fmt.Sprintf("writer %d panics", i))
				case i%3 == 0:
					return sandbox.Errorf(sandbox.EUNPROCESSABLE, "writer %d fails", i)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	want := 0
	for i := range n {
		switch {
		case i%10 == 7:
			if panics[i] == nil {
				t.Errorf("writer %d: panic not re-raised in its goroutine", i)
			}
		case i%3 == 0:
			if sandbox.ErrorCode(results[i]) != sandbox.EUNPROCESSABLE {
				t.Errorf("writer %d: err %v, want its own EUNPROCESSABLE", i, results[i])
			}
		default:
			want++
			if results[i] != nil {
				t.Errorf("writer %d: %v", i, results[i])
			}
		}
	}
	read(t, s, func(tx sandbox.Tx) error {
		p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc, Limit: n})
		if err != nil {
			return err
		}
		if p.Total != want {
			t.Errorf("contacts landed = %d, want %d", p.Total, want)
		}
		for _, c := range p.Contacts {
			var i int
			fmt.Sscanf(c.Tags[0], "i-%d", &i)
			if i%10 == 7 || i%3 == 0 {
				t.Errorf("contact of failed writer %d landed", i)
			}
		}
		return nil
	})
	// The failed writers' events are gone and the others' are kept: appending
	// the same id again conflicts exactly for the writers that succeeded.
	errProbe := errors.New("probe: roll back")
	for i := range n {
		id := fmt.Sprintf("ev-%s-%d", loc, i)
		err := s.Write(ctx, func(tx sandbox.Tx) error {
			if err := tx.AppendEvent(ctx, &sandbox.Event{ID: id, Type: "X", LocationID: loc, CreatedAt: t0, Payload: json.RawMessage(`{}`)}); err != nil {
				return err
			}
			return errProbe
		})
		failed := i%10 == 7 || i%3 == 0
		switch {
		case failed && !errors.Is(err, errProbe):
			t.Errorf("event of failed writer %d survived: %v", i, err)
		case !failed && sandbox.ErrorCode(err) != sandbox.ECONFLICT:
			t.Errorf("event of writer %d: re-append gave %v, want a conflict", i, err)
		}
	}
}

// testTagTotals checks single-tag search totals (which a store may keep as
// counters) through inserts, tag changes, deletes and rollbacks.
func testTagTotals(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	loc, other := sandbox.NewID(), sandbox.NewID()
	total := func(tag string) int {
		var n int
		read(t, s, func(tx sandbox.Tx) error {
			p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc, Limit: 1,
				Filter: &sandbox.Filter{Field: "tags", Operator: sandbox.OpEq, Value: tag}})
			if err != nil {
				return err
			}
			n = p.Total
			return nil
		})
		return n
	}
	var cs []*sandbox.Contact
	write(t, s, func(tx sandbox.Tx) error {
		for i := range 5 {
			c := newContact(loc, "T", fmt.Sprintf("N%d", i), float64(i))
			c.Tags = []string{"Gold", "x"}
			cs = append(cs, c)
			if err := tx.InsertContact(ctx, c); err != nil {
				return err
			}
		}
		o := newContact(other, "O", "N", 1)
		o.Tags = []string{"gold"}
		return tx.InsertContact(ctx, o)
	})
	if got := total("gold"); got != 5 {
		t.Fatalf("gold after inserts = %d, want 5 (the other location's contact must not count)", got)
	}
	write(t, s, func(tx sandbox.Tx) error {
		cs[0].Tags = []string{"x"}
		if err := tx.UpdateContact(ctx, cs[0]); err != nil {
			return err
		}
		return tx.DeleteContact(ctx, cs[1].ID)
	})
	if got := total("gold"); got != 3 {
		t.Errorf("gold after untag and delete = %d, want 3", got)
	}
	if got := total("x"); got != 4 {
		t.Errorf("x = %d, want 4", got)
	}
	_ = s.Write(ctx, func(tx sandbox.Tx) error {
		cs[2].Tags = nil
		if err := tx.UpdateContact(ctx, cs[2]); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if got := total("gold"); got != 3 {
		t.Errorf("gold after a rolled-back untag = %d, want 3", got)
	}
	if got := total("nobody-has-this"); got != 0 {
		t.Errorf("unknown tag total = %d", got)
	}
}
