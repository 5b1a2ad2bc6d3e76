package sandbox_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// Deleting a custom field, or renaming or deleting a tag, reaches the
// location's contacts in the same transaction.

// contactAs reads a contact through the API with a token.
func contactAs(t *testing.T, e *testEnv, tok, id string) map[string]any {
	t.Helper()
	return e.do("GET", "/contacts/"+id, tok, nil).mustStatus(t, 200).JSON(t)["contact"].(map[string]any)
}

// contactFieldIDs lists the field ids of a contact's custom field values.
func contactFieldIDs(c map[string]any) []string {
	var ids []string
	for _, v := range c["customFields"].([]any) {
		ids = append(ids, v.(map[string]any)["id"].(string))
	}
	sort.Strings(ids)
	return ids
}

// eventCounts counts the outbox events of a type per object id.
func eventCounts(t *testing.T, e *testEnv, typ string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, ev := range outboxEvents(t, e, typ) {
		id, _ := ev["id"].(string)
		n[id]++
	}
	return n
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func TestDeleteCustomFieldRemovesContactValues(t *testing.T) {
	e := newTestEnv(t, withContactClock)
	v1 := func(loc, tok, name string) string {
		t.Helper()
		return e.do("POST", "/locations/"+loc+"/customFields", tok, map[string]any{"name": name, "dataType": "TEXT"}).mustStatus(t, 201).JSON(t)["customField"].(map[string]any)["id"].(string)
	}
	a := v1(e.L1, e.TokL1, "Alpha")
	b := e.do("POST", "/custom-fields/", e.TokL1, map[string]any{"locationId": e.L1, "name": "Beta", "dataType": "NUMERICAL"}).mustStatus(t, 201).JSON(t)["field"].(map[string]any)["id"].(string)
	unused := v1(e.L1, e.TokL1, "Unused")
	other := v1(e.L2, e.TokL2, "Alpha")

	value := func(id string, v any) map[string]any { return map[string]any{"id": id, "field_value": v} }
	c1 := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "firstName": "One", "customFields": []any{value(a, "x"), value(b, 7)}})["id"].(string)
	c2 := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "firstName": "Two", "customFields": []any{value(a, "y")}})["id"].(string)
	c3 := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "firstName": "Three", "customFields": []any{value(b, 1)}})["id"].(string)
	c4 := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "firstName": "Four"})["id"].(string)
	elsewhere := createContactT(t, e, e.TokL2, map[string]any{"locationId": e.L2, "firstName": "Else", "customFields": []any{value(other, "z")}})
	if got := contactFieldIDs(getContactT(t, e, c1)); !slices.Equal(got, sorted(a, b)) {
		t.Fatalf("c1 fields before = %v", got)
	}
	before := map[string]map[string]any{}
	for _, id := range []string{c1, c2, c3, c4} {
		before[id] = getContactT(t, e, id)
	}
	updates := eventCounts(t, e, "ContactUpdate")

	// A field no contact has: deleted, and no contact touched.
	e.do("DELETE", "/locations/"+e.L1+"/customFields/"+unused, e.TokL1, nil).mustStatus(t, 200)
	if got := eventCounts(t, e, "ContactUpdate"); len(got) != len(updates) {
		t.Errorf("deleting an unused field emitted ContactUpdate events: %v", got)
	}

	// v1 delete: the values go from the contacts that had them, each with
	// a ContactUpdate event and a new dateUpdated; the others are untouched.
	e.do("DELETE", "/locations/"+e.L1+"/customFields/"+a, e.TokL1, nil).mustStatus(t, 200)
	for id, want := range map[string][]string{c1: {b}, c2: nil, c3: {b}, c4: nil} {
		got := getContactT(t, e, id)
		if ids := contactFieldIDs(got); !slices.Equal(ids, want) {
			t.Errorf("%s fields after deleting the field = %v, want %v", got["firstName"], ids, want)
		}
		changed := id == c1 || id == c2
		if moved := got["dateUpdated"] != before[id]["dateUpdated"]; moved != changed {
			t.Errorf("%s dateUpdated %v → %v", got["firstName"], before[id]["dateUpdated"], got["dateUpdated"])
		}
		events := eventCounts(t, e, "ContactUpdate")[id] - updates[id]
		if want := map[bool]int{true: 1, false: 0}[changed]; events != want {
			t.Errorf("%s: %d ContactUpdate events, want %d", got["firstName"], events, want)
		}
	}
	// c1's other value is intact, and the contact can be updated again.
	if cf := getContactT(t, e, c1)["customFields"].([]any); len(cf) != 1 || cf[0].(map[string]any)["value"] != float64(7) {
		t.Errorf("c1 custom fields = %v", cf)
	}
	e.do("PUT", "/contacts/"+c1, e.TokL1, map[string]any{"customFields": []any{value(b, 8)}}).mustStatus(t, 200)
	// Searching no longer finds the values (the field itself is unknown).
	wantError(t, e.do("POST", "/contacts/search", e.TokL1, map[string]any{"locationId": e.L1, "filters": []any{map[string]any{"field": "customFields." + a, "operator": "exists"}}}), 422, "no contact custom field")

	// v2 delete.
	if m := e.do("DELETE", "/custom-fields/"+b, e.TokL1, nil).mustStatus(t, 200).JSON(t); m["id"] != b || m["key"] != "contact.beta" {
		t.Errorf("v2 delete = %v", m)
	}
	for _, id := range []string{c1, c2, c3, c4} {
		if ids := contactFieldIDs(getContactT(t, e, id)); len(ids) != 0 {
			t.Errorf("%s still has %v", id, ids)
		}
	}

	// Another location's contact and field are untouched.
	got := contactAs(t, e, e.TokL2, elsewhere["id"].(string))
	if ids := contactFieldIDs(got); !slices.Equal(ids, []string{other}) || got["dateUpdated"] != elsewhere["dateUpdated"] {
		t.Errorf("other location's contact = %v", got)
	}
	e.do("GET", "/locations/"+e.L2+"/customFields/"+other, e.TokL2, nil).mustStatus(t, 200)

	// A refused delete (another location's token) changes nothing.
	wantError(t, e.do("DELETE", "/custom-fields/"+other, e.TokL1, nil), 403, sandbox.MsgLocation)
	if ids := contactFieldIDs(contactAs(t, e, e.TokL2, elsewhere["id"].(string))); len(ids) != 1 {
		t.Errorf("refused delete removed values: %v", ids)
	}
}

// TestDeleteCustomFieldManyContacts checks the paging of the cascade: more
// contacts than one page, all with the same dateAdded.
func TestDeleteCustomFieldManyContacts(t *testing.T) {
	e := newTestEnv(t)
	f := e.do("POST", "/custom-fields/", e.TokL1, map[string]any{"locationId": e.L1, "name": "Score", "dataType": "TEXT"}).mustStatus(t, 201).JSON(t)["field"].(map[string]any)["id"].(string)
	keep := e.do("POST", "/custom-fields/", e.TokL1, map[string]any{"locationId": e.L1, "name": "Keep", "dataType": "TEXT"}).mustStatus(t, 201).JSON(t)["field"].(map[string]any)["id"].(string)
	const n = 1203
	ctx := context.Background()
	added := sandbox.Time{Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	err := e.Store.Write(ctx, func(tx sandbox.Tx) error {
		for i := range n {
			c := &sandbox.Contact{ID: sandbox.NewID(), LocationID: e.L1, FirstName: fmt.Sprint("c", i), Tags: []string{},
				DateAdded: added, DateUpdated: added, CustomFields: []sandbox.CustomFieldValue{{ID: f, Value: fmt.Sprint("v", i)}}}
			if i%2 == 0 {
				c.CustomFields = append(c.CustomFields, sandbox.CustomFieldValue{ID: keep, Value: "k"})
			}
			if err := tx.InsertContact(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func(field string) float64 {
		t.Helper()
		return e.do("POST", "/contacts/search", e.TokL1, map[string]any{"locationId": e.L1, "filters": []any{map[string]any{"field": "customFields." + field, "operator": "exists"}}}).mustStatus(t, 200).JSON(t)["total"].(float64)
	}
	if got := count(f); got != n {
		t.Fatalf("%v contacts with the field before, want %d", got, n)
	}
	e.do("DELETE", "/custom-fields/"+f, e.TokL1, nil).mustStatus(t, 200)
	var left int
	err = e.Store.Read(ctx, func(tx sandbox.Tx) error {
		page, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: e.L1})
		if err != nil {
			return err
		}
		for _, c := range page.Contacts {
			for _, v := range c.CustomFields {
				if v.ID == f {
					left++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d contacts still hold the deleted field's value", left)
	}
	if got := count(keep); got != (n+1)/2 {
		t.Errorf("%v contacts with the other field, want %d", got, (n+1)/2)
	}
	if got := len(outboxEvents(t, e, "ContactUpdate")); got != n {
		t.Errorf("%d ContactUpdate events, want %d", got, n)
	}
}

// contactTags returns a contact's tags.
func contactTagsOf(t *testing.T, e *testEnv, tok, id string) []string {
	t.Helper()
	return anyStrings(contactAs(t, e, tok, id)["tags"])
}

// tagSearch returns the ids of the contacts of loc a tag search finds.
func tagSearch(t *testing.T, e *testEnv, tok, loc, tag string) []string {
	t.Helper()
	m := e.do("POST", "/contacts/search", tok, map[string]any{"locationId": loc, "pageLimit": 100,
		"filters": []any{map[string]any{"field": "tags", "operator": "eq", "value": tag}}}).mustStatus(t, 200).JSON(t)
	var ids []string
	for _, c := range m["contacts"].([]any) {
		ids = append(ids, c.(map[string]any)["id"].(string))
	}
	sort.Strings(ids)
	return ids
}

// locationTagID finds a location's tag by exact name.
func locationTagID(t *testing.T, e *testEnv, tok, loc, name string) string {
	t.Helper()
	for _, tag := range e.do("GET", "/locations/"+loc+"/tags", tok, nil).mustStatus(t, 200).JSON(t)["tags"].([]any) {
		if m := tag.(map[string]any); m["name"] == name {
			return m["id"].(string)
		}
	}
	t.Fatalf("location %s has no tag %q", loc, name)
	return ""
}

func TestTagRenameAndDeleteReachContacts(t *testing.T) {
	e := newTestEnv(t, withContactClock)
	mk := func(tok, loc, name string, tags ...string) string {
		t.Helper()
		return createContactT(t, e, tok, map[string]any{"locationId": loc, "firstName": name, "tags": tags})["id"].(string)
	}
	c1 := mk(e.TokL1, e.L1, "One", "VIP", "lead")
	c2 := mk(e.TokL1, e.L1, "Two", "vip")
	c3 := mk(e.TokL1, e.L1, "Three", "lead")
	c4 := mk(e.TokL1, e.L1, "Four", "Vip")
	elsewhere := mk(e.TokL2, e.L2, "Else", "VIP", "lead")
	// Four also carries "Renamed", a tag the location has no record of
	// (written as stores holding older data may have it).
	ctx := context.Background()
	err := e.Store.Write(ctx, func(tx sandbox.Tx) error {
		c, err := tx.GetContact(ctx, c4)
		if err != nil {
			return err
		}
		c.Tags = append(c.Tags, "Renamed")
		return tx.UpdateContact(ctx, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	vip := locationTagID(t, e, e.TokL1, e.L1, "VIP")
	lead := locationTagID(t, e, e.TokL1, e.L1, "lead")
	otherVip := locationTagID(t, e, e.TokL2, e.L2, "VIP")
	if got := tagSearch(t, e, e.TokL1, e.L1, "vip"); !slices.Equal(got, sorted(c1, c2, c4)) {
		t.Fatalf("vip search before = %v", got)
	}
	tagEvents := eventCounts(t, e, "ContactTagUpdate")
	newTagEvents := func(id string) int { return eventCounts(t, e, "ContactTagUpdate")[id] - tagEvents[id] }
	base := "/locations/" + e.L1 + "/tags/"

	// Rename: every spelling on every contact becomes the new name; Four,
	// which has it already, keeps one copy.
	e.do("PUT", base+vip, e.TokL1, map[string]any{"name": "renamed"}).mustStatus(t, 200)
	for id, want := range map[string][]string{c1: {"renamed", "lead"}, c2: {"renamed"}, c3: {"lead"}, c4: {"Renamed"}} {
		if got := contactTagsOf(t, e, e.TokL1, id); !slices.Equal(got, want) {
			t.Errorf("%s tags after rename = %v, want %v", id, got, want)
		}
	}
	if got := tagSearch(t, e, e.TokL1, e.L1, "renamed"); !slices.Equal(got, sorted(c1, c2, c4)) {
		t.Errorf("search for the new name = %v", got)
	}
	if got := tagSearch(t, e, e.TokL1, e.L1, "VIP"); len(got) != 0 {
		t.Errorf("search for the old name = %v", got)
	}
	for id, want := range map[string]int{c1: 1, c2: 1, c3: 0, c4: 1} {
		if got := newTagEvents(id); got != want {
			t.Errorf("%s: %d ContactTagUpdate events after rename, want %d", id, got, want)
		}
	}
	// The location lists the tag once, under the new name.
	tags := e.do("GET", "/locations/"+e.L1+"/tags", e.TokL1, nil).mustStatus(t, 200).JSON(t)["tags"].([]any)
	if len(tags) != 2 || locationTagID(t, e, e.TokL1, e.L1, "renamed") != vip {
		t.Errorf("location tags after rename = %v", tags)
	}
	// Another location's tag and contacts are untouched.
	if got := contactTagsOf(t, e, e.TokL2, elsewhere); !slices.Equal(got, []string{"VIP", "lead"}) {
		t.Errorf("other location's contact = %v", got)
	}
	if got := e.do("GET", "/locations/"+e.L2+"/tags/"+otherVip, e.TokL2, nil).mustStatus(t, 200).JSON(t)["tag"].(map[string]any); got["name"] != "VIP" {
		t.Errorf("other location's tag = %v", got)
	}

	// Renaming to the same name changes nothing; to another case, the
	// contacts' spelling follows.
	tagEvents = eventCounts(t, e, "ContactTagUpdate")
	e.do("PUT", base+vip, e.TokL1, map[string]any{"name": "renamed"}).mustStatus(t, 200)
	if got := newTagEvents(c1); got != 0 {
		t.Errorf("same-name rename emitted %d events", got)
	}
	e.do("PUT", base+vip, e.TokL1, map[string]any{"name": "Renamed"}).mustStatus(t, 200)
	for id, want := range map[string][]string{c1: {"Renamed", "lead"}, c2: {"Renamed"}, c4: {"Renamed"}} {
		if got := contactTagsOf(t, e, e.TokL1, id); !slices.Equal(got, want) {
			t.Errorf("%s tags after case rename = %v, want %v", id, got, want)
		}
	}
	if newTagEvents(c4) != 0 || newTagEvents(c1) != 1 {
		t.Errorf("case rename events: c1 %d, c4 %d", newTagEvents(c1), newTagEvents(c4))
	}

	// A refused rename (the name is taken) changes no contact.
	tagEvents = eventCounts(t, e, "ContactTagUpdate")
	wantError(t, e.do("PUT", base+vip, e.TokL1, map[string]any{"name": "LEAD"}), 400, "Tag already exists")
	if got := contactTagsOf(t, e, e.TokL1, c1); !slices.Equal(got, []string{"Renamed", "lead"}) || newTagEvents(c1) != 0 {
		t.Errorf("refused rename touched c1: %v", got)
	}

	// Delete: the tag leaves every contact (in any case) and the location.
	tagEvents = eventCounts(t, e, "ContactTagUpdate")
	e.do("DELETE", base+vip, e.TokL1, nil).mustStatus(t, 200)
	for id, want := range map[string][]string{c1: {"lead"}, c2: {}, c3: {"lead"}, c4: {}} {
		if got := contactTagsOf(t, e, e.TokL1, id); !slices.Equal(got, want) {
			t.Errorf("%s tags after delete = %v, want %v", id, got, want)
		}
		if got, want := newTagEvents(id), map[bool]int{true: 0, false: 1}[id == c3]; got != want {
			t.Errorf("%s: %d ContactTagUpdate events after delete, want %d", id, got, want)
		}
	}
	if got := tagSearch(t, e, e.TokL1, e.L1, "renamed"); len(got) != 0 {
		t.Errorf("search for the deleted tag = %v", got)
	}
	if tags := e.do("GET", "/locations/"+e.L1+"/tags", e.TokL1, nil).mustStatus(t, 200).JSON(t)["tags"].([]any); len(tags) != 1 || tags[0].(map[string]any)["id"] != lead {
		t.Errorf("location tags after delete = %v", tags)
	}
	if got := contactTagsOf(t, e, e.TokL2, elsewhere); !slices.Equal(got, []string{"VIP", "lead"}) {
		t.Errorf("other location's contact after delete = %v", got)
	}
	if got := tagSearch(t, e, e.TokL2, e.L2, "vip"); !slices.Equal(got, []string{elsewhere}) {
		t.Errorf("other location's tag search = %v", got)
	}

	// Deleting a tag no contact carries touches no contact.
	unused := e.do("POST", "/locations/"+e.L1+"/tags", e.TokL1, map[string]any{"name": "unused"}).mustStatus(t, 200).JSON(t)["tag"].(map[string]any)["id"].(string)
	all := len(outboxEvents(t, e, "ContactUpdate"))
	e.do("PUT", base+unused, e.TokL1, map[string]any{"name": "still unused"}).mustStatus(t, 200)
	e.do("DELETE", base+unused, e.TokL1, nil).mustStatus(t, 200)
	if got := len(outboxEvents(t, e, "ContactUpdate")); got != all {
		t.Errorf("renaming and deleting an unused tag emitted %d ContactUpdate events", got-all)
	}
	// A refused delete (another location's tag) changes nothing.
	wantError(t, e.do("DELETE", "/locations/"+e.L2+"/tags/"+otherVip, e.TokL1, nil), 403, sandbox.MsgLocation)
	if got := contactTagsOf(t, e, e.TokL2, elsewhere); !slices.Equal(got, []string{"VIP", "lead"}) {
		t.Errorf("other location's contact after refused delete = %v", got)
	}
}
