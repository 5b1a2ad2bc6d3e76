package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// contactClock is a sandbox clock that moves one second per reading, so
// contacts created one after another have distinct, ordered dates.
type contactClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *contactClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func withContactClock(c *sandbox.Config) {
	clock := &contactClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	c.Now = clock.Now
}

// createContactT creates a contact through the API and returns it.
func createContactT(t *testing.T, e *testEnv, tok string, body map[string]any) map[string]any {
	t.Helper()
	return e.do("POST", "/contacts/", tok, body).mustStatus(t, 201).JSON(t)["contact"].(map[string]any)
}

// getContactT reads a contact back through the API.
func getContactT(t *testing.T, e *testEnv, id string) map[string]any {
	t.Helper()
	return e.do("GET", "/contacts/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)["contact"].(map[string]any)
}

// setAllowDuplicates switches a location's "Allow Duplicate Contact".
func setAllowDuplicates(t *testing.T, e *testEnv, loc string, allow bool) {
	t.Helper()
	ctx := context.Background()
	err := e.Store.Write(ctx, func(tx sandbox.Tx) error {
		rec, err := tx.GetRecord(ctx, sandbox.KindLocation, loc)
		if err != nil {
			return err
		}
		var l sandbox.Location
		if err := json.Unmarshal(rec.Data, &l); err != nil {
			return err
		}
		l.Settings.AllowDuplicateContact = allow
		return sandbox.PutRecordOf(ctx, tx, *rec, &l)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// putContactRecord stores a record of another namespace (custom field,
// campaign, workflow) for the contact routes to find.
func putContactRecord(t *testing.T, e *testEnv, kind sandbox.Kind, loc, key string, doc any) string {
	t.Helper()
	id := sandbox.NewID()
	if f, ok := doc.(*sandbox.CustomField); ok {
		f.ID, f.LocationID = id, loc
	}
	err := e.Store.Write(context.Background(), func(tx sandbox.Tx) error {
		return sandbox.PutRecordOf(context.Background(), tx, sandbox.Record{Kind: kind, ID: id, LocationID: loc, Key: key}, doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// contactEvents returns the outbox events of a type about one object id.
func contactEvents(t *testing.T, e *testEnv, typ, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, ev := range outboxEvents(t, e, typ) {
		if ev["id"] == id {
			out = append(out, ev)
		}
	}
	return out
}

func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func TestContactCRUD(t *testing.T) {
	e := newTestEnv(t)
	c := createContactT(t, e, e.TokL1, map[string]any{
		"locationId": e.L1, "firstName": "Rosan", "lastName": "Deo", "email": "Rosan@Deos.COM",
		"phone": "+1 888-888-8888", "tags": []string{"vip", " VIP ", "lead"}, "source": "public api",
		"dateOfBirth": "09/25/1990", "companyName": "DGS VolMAX", "country": "US",
	})
	id, _ := c["id"].(string)
	if len(id) != 20 {
		t.Fatalf("id %q is not a 20-char GHL id", id)
	}
	want := map[string]any{
		"locationId": e.L1, "firstName": "Rosan", "lastName": "Deo", "name": "Rosan Deo",
		"email": "rosan@deos.com", "phone": "+18888888888", "type": "lead", "dnd": false,
		"dateOfBirth": "1990-09-25", "companyName": "DGS VolMAX", "firstNameLowerCase": "rosan",
		"fullNameLowerCase": "rosan deo", "emailLowerCase": "rosan@deos.com",
	}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("created %s = %v, want %v", k, c[k], v)
		}
	}
	if got := anyStrings(c["tags"]); !slices.Equal(got, []string{"vip", "lead"}) {
		t.Errorf("tags %v", got)
	}
	if _, err := time.Parse(sandbox.TimeLayout, fmt.Sprint(c["dateAdded"])); err != nil {
		t.Errorf("dateAdded %v: %v", c["dateAdded"], err)
	}

	// The stored state answers GET.
	got := getContactT(t, e, id)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("GET %s = %v, want %v", k, got[k], v)
		}
	}

	// PUT replaces the fields it names (tags too, as the spec says) and
	// keeps the others.
	res := e.do("PUT", "/contacts/"+id, e.TokL1, map[string]any{"firstName": "Ros", "tags": []string{"customer"}, "city": "Dolomite", "phone": "(415) 555-1234"}).mustStatus(t, 200).JSON(t)
	if res["succeded"] != true {
		t.Errorf("update body %v", res)
	}
	got = getContactT(t, e, id)
	if got["firstName"] != "Ros" || got["name"] != "Ros Deo" || got["city"] != "Dolomite" || got["email"] != "rosan@deos.com" || got["phone"] != "+14155551234" {
		t.Errorf("after update: %v", got)
	}
	if tags := anyStrings(got["tags"]); !slices.Equal(tags, []string{"customer"}) {
		t.Errorf("tags after update %v", tags)
	}
	// null clears a nullable field.
	e.do("PUT", "/contacts/"+id, e.TokL1, map[string]any{"city": nil}).mustStatus(t, 200)
	if got = getContactT(t, e, id); got["city"] != nil {
		t.Errorf("city after null: %v", got["city"])
	}

	if ev := contactEvents(t, e, "ContactCreate", id); len(ev) != 1 || ev[0]["email"] != "rosan@deos.com" || ev[0]["locationId"] != e.L1 {
		t.Errorf("ContactCreate events %v", ev)
	}
	if ev := contactEvents(t, e, "ContactUpdate", id); len(ev) != 2 {
		t.Errorf("ContactUpdate events %d, want 2", len(ev))
	}
	if ev := contactEvents(t, e, "ContactTagUpdate", id); len(ev) != 1 {
		t.Errorf("ContactTagUpdate events %d, want 1 (only the first update changed tags)", len(ev))
	}

	m := e.do("DELETE", "/contacts/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	if m["succeded"] != true {
		t.Errorf("delete body %v", m)
	}
	wantError(t, e.do("GET", "/contacts/"+id, e.TokL1, nil), 404, "Contact not found")
	if ev := contactEvents(t, e, "ContactDelete", id); len(ev) != 1 {
		t.Errorf("ContactDelete events %v", ev)
	}
}

func TestContactNameSplitAndValidation(t *testing.T) {
	e := newTestEnv(t)
	c := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "name": "Jane van Dyke"})
	if c["firstName"] != "Jane" || c["lastName"] != "van Dyke" {
		t.Errorf("name split: %v %v", c["firstName"], c["lastName"])
	}

	post := func(body map[string]any) *response {
		body["locationId"] = e.L1
		return e.do("POST", "/contacts/", e.TokL1, body)
	}
	wantError(t, e.do("POST", "/contacts/", e.TokL1, map[string]any{"firstName": "x"}), 422, "locationId should not be empty")
	wantError(t, post(map[string]any{"email": "not-an-email"}), 422, "email must be an email")
	wantError(t, post(map[string]any{"phone": "call me"}), 422, "phone must be a valid phone number")
	wantError(t, post(map[string]any{"phone": "123"}), 422, "phone must be a valid phone number")
	wantError(t, post(map[string]any{"dateOfBirth": "31/31/1990"}), 422, "dateOfBirth must be a valid date")
	wantError(t, post(map[string]any{"tags": "vip"}), 422, "tags must be a")
	wantError(t, post(map[string]any{"firstName": 42}), 422, "firstName must be a string")
	wantError(t, post(map[string]any{"dnd": "yes"}), 422, "dnd must be a boolean")
	// Several failures are listed together.
	m := post(map[string]any{"email": "x", "phone": "y"}).mustStatus(t, 422).JSON(t)
	if msgs := anyStrings(m["message"]); len(msgs) != 2 {
		t.Errorf("messages %v, want two", msgs)
	}
	wantError(t, e.do("POST", "/contacts/", e.TokL1, `{"locationId": "`+e.L1+`", "firstName": }`), 400, "Unexpected token")
	wantError(t, e.do("PUT", "/contacts/"+c["id"].(string), e.TokL1, `{"firstName": `), 400, "Unexpected token")

	// A national number reads in the contact's country, else the location's.
	uk := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "phone": "020 7946 0958", "country": "gb"})
	if uk["phone"] != "+442079460958" || uk["country"] != "GB" {
		t.Errorf("UK phone %v country %v", uk["phone"], uk["country"])
	}
	intl := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "phone": "0044 20 7946 0959"})
	if intl["phone"] != "+442079460959" {
		t.Errorf("00-prefixed phone %v", intl["phone"])
	}
}

// TestContactRoutesAccess drives every contact route with a contact of L1:
// unknown ids are 404, another location's token 403, a read-only token 401
// on writes.
func TestContactRoutesAccess(t *testing.T) {
	e := newTestEnv(t)
	id := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "email": "a@example.com"})["id"].(string)
	note := e.do("POST", "/contacts/"+id+"/notes", e.TokL1, map[string]any{"body": "hello"}).mustStatus(t, 201).JSON(t)["note"].(map[string]any)["id"].(string)
	task := e.do("POST", "/contacts/"+id+"/tasks", e.TokL1, map[string]any{"title": "Call", "dueDate": "2030-01-01T10:00:00Z", "completed": false}).mustStatus(t, 201).JSON(t)["task"].(map[string]any)["id"].(string)
	campaign := putContactRecord(t, e, sandbox.KindCampaign, e.L1, "", map[string]any{"name": "C"})
	workflow := putContactRecord(t, e, sandbox.KindWorkflow, e.L1, "", map[string]any{"name": "W"})

	type route struct {
		method, path string
		body         any
		write        bool
	}
	routes := func(cid string) []route {
		return []route{
			{"GET", "/contacts/" + cid, nil, false},
			{"PUT", "/contacts/" + cid, map[string]any{"firstName": "x"}, true},
			{"POST", "/contacts/" + cid + "/tags", map[string]any{"tags": []string{"t"}}, true},
			{"DELETE", "/contacts/" + cid + "/tags", map[string]any{"tags": []string{"t"}}, true},
			{"GET", "/contacts/" + cid + "/notes", nil, false},
			{"POST", "/contacts/" + cid + "/notes", map[string]any{"body": "b"}, true},
			{"GET", "/contacts/" + cid + "/notes/" + note, nil, false},
			{"PUT", "/contacts/" + cid + "/notes/" + note, map[string]any{"body": "b"}, true},
			{"GET", "/contacts/" + cid + "/tasks", nil, false},
			{"POST", "/contacts/" + cid + "/tasks", map[string]any{"title": "t", "dueDate": "2030-01-01", "completed": false}, true},
			{"GET", "/contacts/" + cid + "/tasks/" + task, nil, false},
			{"PUT", "/contacts/" + cid + "/tasks/" + task, map[string]any{"title": "t"}, true},
			{"PUT", "/contacts/" + cid + "/tasks/" + task + "/completed", map[string]any{"completed": true}, true},
			{"GET", "/contacts/" + cid + "/appointments", nil, false},
			{"POST", "/contacts/" + cid + "/followers", map[string]any{"followers": []string{"u1"}}, true},
			{"DELETE", "/contacts/" + cid + "/followers", map[string]any{"followers": []string{"u1"}}, true},
			{"POST", "/contacts/" + cid + "/campaigns/" + campaign, map[string]any{}, true},
			{"DELETE", "/contacts/" + cid + "/campaigns/" + campaign, nil, true},
			{"DELETE", "/contacts/" + cid + "/campaigns/removeAll", nil, true},
			{"POST", "/contacts/" + cid + "/workflow/" + workflow, map[string]any{}, true},
			{"DELETE", "/contacts/" + cid + "/workflow/" + workflow, map[string]any{}, true},
			{"DELETE", "/contacts/" + cid + "/notes/" + note, nil, true},
			{"DELETE", "/contacts/" + cid + "/tasks/" + task, nil, true},
			{"DELETE", "/contacts/" + cid, nil, true},
		}
	}
	for _, rt := range routes(sandbox.NewID()) {
		wantError(t, e.do(rt.method, rt.path, e.TokL1, rt.body), 404, "Contact not found")
	}
	for _, rt := range routes(id) {
		wantError(t, e.do(rt.method, rt.path, e.TokL2, rt.body), 403, sandbox.MsgLocation)
		if rt.write {
			wantError(t, e.do(rt.method, rt.path, e.TokL1Read, rt.body), 401, sandbox.MsgScope)
		} else {
			e.do(rt.method, rt.path, e.TokL1Read, rt.body).mustStatus(t, 200)
		}
	}
	// Nothing changed: every refused write left the contact as it was.
	if c := getContactT(t, e, id); c["firstName"] != nil || len(anyStrings(c["tags"])) != 0 {
		t.Errorf("contact changed by refused writes: %v", c)
	}
	// And the owner can run them all, in order.
	for _, rt := range routes(id) {
		if res := e.do(rt.method, rt.path, e.TokL1, rt.body); res.Status >= 300 {
			t.Errorf("%s %s: %d %s", rt.method, rt.path, res.Status, res.Body)
		}
	}
	// Another contact's note or task is not found under this contact.
	other := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "email": "b@example.com"})["id"].(string)
	n2 := e.do("POST", "/contacts/"+other+"/notes", e.TokL1, map[string]any{"body": "x"}).mustStatus(t, 201).JSON(t)["note"].(map[string]any)["id"].(string)
	wantError(t, e.do("GET", "/contacts/"+sandbox.NewID()+"/notes/"+n2, e.TokL1, nil), 404, "Contact not found")
	third := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "email": "c@example.com"})["id"].(string)
	wantError(t, e.do("GET", "/contacts/"+third+"/notes/"+n2, e.TokL1, nil), 404, "Note not found")
}

func TestContactDuplicates(t *testing.T) {
	e := newTestEnv(t)
	first := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "firstName": "Ann", "email": "ann@example.com", "phone": "+14155550100"})
	firstID := first["id"].(string)

	dupBody := func(res *response, field string) {
		t.Helper()
		m := res.mustStatus(t, 400).JSON(t)
		meta, _ := m["meta"].(map[string]any)
		if m["statusCode"] != float64(400) || m["message"] != sandbox.MsgDuplicateContact || meta["contactId"] != firstID || meta["matchingField"] != field || meta["contactName"] != "Ann" {
			t.Errorf("duplicate answer %v", m)
		}
	}
	// Email matches case-insensitively, and is checked before the phone.
	dupBody(e.do("POST", "/contacts/", e.TokL1, map[string]any{"locationId": e.L1, "email": "ANN@example.com", "phone": "+14155550100"}), "email")
	// The phone matches in any format.
	dupBody(e.do("POST", "/contacts/", e.TokL1, map[string]any{"locationId": e.L1, "phone": "(415) 555-0100"}), "phone")
	// Another location may have the same email.
	createContactT(t, e, e.TokL2, map[string]any{"locationId": e.L2, "email": "ann@example.com"})
	// An update onto another contact's email is refused too.
	second := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "email": "bob@example.com"})["id"].(string)
	dupBody(e.do("PUT", "/contacts/"+second, e.TokL1, map[string]any{"email": "ann@example.com"}), "email")
	if c := getContactT(t, e, second); c["email"] != "bob@example.com" {
		t.Errorf("refused update changed the email: %v", c["email"])
	}
	// Re-saving a contact's own email is not a duplicate.
	e.do("PUT", "/contacts/"+firstID, e.TokL1, map[string]any{"email": "ann@example.com", "lastName": "Lee"}).mustStatus(t, 200)

	setAllowDuplicates(t, e, e.L1, true)
	dup := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "email": "ann@example.com", "phone": "+14155550100"})
	if dup["id"] == firstID {
		t.Error("a duplicate got the first contact's id")
	}
	e.do("PUT", "/contacts/"+second, e.TokL1, map[string]any{"email": "ann@example.com"}).mustStatus(t, 200)
}

func TestUpsertContact(t *testing.T) {
	e := newTestEnv(t, withContactClock)
	upsert := func(body map[string]any) map[string]any {
		t.Helper()
		body["locationId"] = e.L1
		m := e.do("POST", "/contacts/upsert", e.TokL1, body).mustStatus(t, 200).JSON(t)
		if tid, _ := m["traceId"].(string); tid == "" {
			t.Errorf("upsert without traceId: %v", m)
		}
		return m
	}
	m := upsert(map[string]any{"email": "Zoe@example.com", "firstName": "Zoe", "tags": []string{"a"}})
	if m["new"] != true {
		t.Fatalf("first upsert: %v", m)
	}
	zoe := m["contact"].(map[string]any)["id"].(string)

	// By email: the same contact, updated.
	m = upsert(map[string]any{"email": "zoe@EXAMPLE.com", "lastName": "Ray", "phone": "+14155550111"})
	if m["new"] != false || m["contact"].(map[string]any)["id"] != zoe {
		t.Fatalf("upsert by email: %v", m)
	}
	if c := getContactT(t, e, zoe); c["firstName"] != "Zoe" || c["lastName"] != "Ray" || c["phone"] != "+14155550111" {
		t.Errorf("after upsert by email: %v", c)
	}
	// By phone when the email matches nobody.
	m = upsert(map[string]any{"phone": "415-555-0111", "city": "Austin"})
	if m["new"] != false || m["contact"].(map[string]any)["id"] != zoe {
		t.Fatalf("upsert by phone: %v", m)
	}
	if c := getContactT(t, e, zoe); c["city"] != "Austin" {
		t.Errorf("after upsert by phone: %v", c)
	}
	// Email wins over phone: with Zoe's phone and Max's email, Max is updated
	// and the phone (Zoe's) is ignored rather than duplicated.
	maxID := upsert(map[string]any{"email": "max@example.com"})["contact"].(map[string]any)["id"].(string)
	m = upsert(map[string]any{"email": "max@example.com", "phone": "+14155550111", "firstName": "Max"})
	if m["contact"].(map[string]any)["id"] != maxID {
		t.Fatalf("email should win: %v", m)
	}
	if c := getContactT(t, e, maxID); c["firstName"] != "Max" || c["phone"] != nil {
		t.Errorf("max after upsert: %v", c)
	}
	// createNewIfDuplicateAllowed means nothing while duplicates are refused.
	m = upsert(map[string]any{"email": "zoe@example.com", "createNewIfDuplicateAllowed": true})
	if m["new"] != false {
		t.Errorf("createNewIfDuplicateAllowed with duplicates refused: %v", m)
	}

	setAllowDuplicates(t, e, e.L1, true)
	m = upsert(map[string]any{"email": "zoe@example.com", "createNewIfDuplicateAllowed": true, "firstName": "Zoe2"})
	if m["new"] != true {
		t.Fatalf("createNewIfDuplicateAllowed with duplicates allowed: %v", m)
	}
	// Two contacts share the email now: upsert updates the oldest.
	m = upsert(map[string]any{"email": "zoe@example.com", "source": "web"})
	if m["new"] != false || m["contact"].(map[string]any)["id"] != zoe {
		t.Errorf("upsert should update the oldest match: %v", m)
	}
	wantError(t, e.do("POST", "/contacts/upsert", e.TokL1, map[string]any{"email": "x"}), 422, "locationId should not be empty")
	wantError(t, e.do("POST", "/contacts/upsert", e.TokL1Read, map[string]any{"locationId": e.L1}), 401, sandbox.MsgScope)
	if n := len(outboxEvents(t, e, "ContactCreate")); n != 3 {
		t.Errorf("ContactCreate events %d, want 3", n)
	}
}

func TestContactCustomFields(t *testing.T) {
	e := newTestEnv(t)
	text := putContactRecord(t, e, sandbox.KindCustomField, e.L1, "contact.pin_code", &sandbox.CustomField{Name: "Pin", FieldKey: "contact.pin_code", DataType: "TEXT", Model: "contact"})
	num := putContactRecord(t, e, sandbox.KindCustomField, e.L1, "contact.budget", &sandbox.CustomField{Name: "Budget", FieldKey: "contact.budget", DataType: "MONETORY", Model: "contact"})
	single := putContactRecord(t, e, sandbox.KindCustomField, e.L1, "contact.size", &sandbox.CustomField{Name: "Size", FieldKey: "contact.size", DataType: "SINGLE_OPTIONS", Model: "contact", PicklistOptions: []string{"Small", "Large"}})
	multi := putContactRecord(t, e, sandbox.KindCustomField, e.L1, "contact.colors", &sandbox.CustomField{Name: "Colors", FieldKey: "contact.colors", DataType: "MULTIPLE_OPTIONS", Model: "contact", Options: []sandbox.CustomFieldOption{{Key: "red", Label: "Red"}, {Key: "blue", Label: "Blue"}}})
	date := putContactRecord(t, e, sandbox.KindCustomField, e.L1, "contact.renewal", &sandbox.CustomField{Name: "Renewal", FieldKey: "contact.renewal", DataType: "DATE", Model: "contact"})
	opp := putContactRecord(t, e, sandbox.KindCustomField, e.L1, "opportunity.deal", &sandbox.CustomField{Name: "Deal", FieldKey: "opportunity.deal", DataType: "TEXT", Model: "opportunity"})
	elsewhere := putContactRecord(t, e, sandbox.KindCustomField, e.L2, "contact.pin_code", &sandbox.CustomField{Name: "Pin", FieldKey: "contact.pin_code", DataType: "TEXT", Model: "contact"})

	c := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "customFields": []map[string]any{
		{"id": text, "field_value": "560001"},
		{"key": "budget", "field_value": "100.5"},
		{"key": "contact.size", "value": "large"},
		{"id": multi, "field_value": []string{"red", "Blue"}},
		{"id": date, "field_value": "2025-03-01"},
	}})
	id := c["id"].(string)
	values := func(c map[string]any) map[string]any {
		out := map[string]any{}
		for _, f := range c["customFields"].([]any) {
			m := f.(map[string]any)
			out[m["id"].(string)] = m["value"]
		}
		return out
	}
	got := values(getContactT(t, e, id))
	if got[text] != "560001" || got[num] != 100.5 || got[single] != "Large" || fmt.Sprint(got[multi]) != "[Red Blue]" || got[date] != "2025-03-01" {
		t.Errorf("custom fields read back: %v", got)
	}

	// Updates merge by id; null clears one field.
	e.do("PUT", "/contacts/"+id, e.TokL1, map[string]any{"customFields": []map[string]any{{"id": text, "field_value": "110001"}, {"id": single, "field_value": nil}}}).mustStatus(t, 200)
	got = values(getContactT(t, e, id))
	if got[text] != "110001" || got[num] != 100.5 {
		t.Errorf("after merge: %v", got)
	}
	if _, ok := got[single]; ok {
		t.Errorf("null did not clear the field: %v", got)
	}

	bad := func(field map[string]any, msg string) {
		t.Helper()
		wantError(t, e.do("PUT", "/contacts/"+id, e.TokL1, map[string]any{"customFields": []map[string]any{field}}), 422, msg)
	}
	bad(map[string]any{"id": num, "field_value": "lots"}, "customFields[0].field_value must be a number")
	bad(map[string]any{"id": single, "field_value": "Medium"}, "must be one of the field's options")
	bad(map[string]any{"id": multi, "field_value": []string{"red", "green"}}, `option "green"`)
	bad(map[string]any{"id": date, "field_value": "soon"}, "must be a date")
	bad(map[string]any{"id": sandbox.NewID(), "field_value": "x"}, "no contact custom field")
	bad(map[string]any{"key": "nope", "field_value": "x"}, `no contact custom field "nope"`)
	bad(map[string]any{"id": elsewhere, "field_value": "x"}, "no contact custom field")
	bad(map[string]any{"id": opp, "field_value": "x"}, "no contact custom field")
	bad(map[string]any{"field_value": "x"}, "customFields[0].id must be a string")
	if got2 := values(getContactT(t, e, id)); got2[text] != "110001" {
		t.Errorf("refused update changed custom fields: %v", got2)
	}
}

func TestContactTags(t *testing.T) {
	e := newTestEnv(t)
	id := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "tags": []string{"Lead"}})["id"].(string)
	m := e.do("POST", "/contacts/"+id+"/tags", e.TokL1, map[string]any{"tags": []string{"lead", " VIP ", "vip", "new"}}).mustStatus(t, 201).JSON(t)
	if got := anyStrings(m["tags"]); !slices.Equal(got, []string{"Lead", "VIP", "new"}) {
		t.Errorf("merged tags %v", got)
	}
	if got := anyStrings(getContactT(t, e, id)["tags"]); !slices.Equal(got, []string{"Lead", "VIP", "new"}) {
		t.Errorf("stored tags %v", got)
	}
	// The location's tag list carries each tag once, whatever its case.
	if n := countRecords(t, e, sandbox.KindTag, e.L1); n != 3 {
		t.Errorf("location tags %d, want 3", n)
	}
	if ev := contactEvents(t, e, "ContactTagUpdate", id); len(ev) != 1 || len(anyStrings(ev[0]["tags"])) != 3 {
		t.Errorf("ContactTagUpdate events %v", ev)
	}
	// Adding only known tags changes nothing and emits nothing.
	e.do("POST", "/contacts/"+id+"/tags", e.TokL1, map[string]any{"tags": []string{"LEAD"}}).mustStatus(t, 201)
	if ev := contactEvents(t, e, "ContactTagUpdate", id); len(ev) != 1 {
		t.Errorf("no-op add emitted: %d events", len(ev))
	}

	m = e.do("DELETE", "/contacts/"+id+"/tags", e.TokL1, map[string]any{"tags": []string{"vip", "absent"}}).mustStatus(t, 200).JSON(t)
	if got := anyStrings(m["tags"]); !slices.Equal(got, []string{"Lead", "new"}) {
		t.Errorf("after remove %v", got)
	}
	if got := anyStrings(getContactT(t, e, id)["tags"]); !slices.Equal(got, []string{"Lead", "new"}) {
		t.Errorf("stored after remove %v", got)
	}
	wantError(t, e.do("POST", "/contacts/"+id+"/tags", e.TokL1, map[string]any{"tags": []string{" "}}), 422, "tags should not be empty")
	wantError(t, e.do("POST", "/contacts/"+id+"/tags", e.TokL1, map[string]any{}), 422, "tags should not be empty")
	wantError(t, e.do("DELETE", "/contacts/"+id+"/tags", e.TokL1, map[string]any{"tags": "vip"}), 422, "tags must be a")
}

func TestBulkContactTags(t *testing.T) {
	e := newTestEnv(t)
	a := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "tags": []string{"old"}})["id"].(string)
	b := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1})["id"].(string)
	other := createContactT(t, e, e.TokL2, map[string]any{"locationId": e.L2})["id"].(string)
	missing := sandbox.NewID()

	m := e.do("POST", "/contacts/bulk/tags/update/add", e.TokL1, map[string]any{"locationId": e.L1, "contacts": []string{a, b, other, missing}, "tags": []string{"new", "Old"}}).mustStatus(t, 201).JSON(t)
	if m["succeded"] != false || m["errorCount"] != float64(2) {
		t.Errorf("bulk add answer %v", m)
	}
	resp := m["responses"].([]any)
	if len(resp) != 4 {
		t.Fatalf("responses %v", resp)
	}
	r0 := resp[0].(map[string]any)
	if r0["type"] != "success" || fmt.Sprint(r0["oldTags"]) != "[old]" || fmt.Sprint(r0["tagsAdded"]) != "[new]" {
		t.Errorf("response for a: %v", r0)
	}
	if r := resp[2].(map[string]any); r["type"] != "error" || r["message"] != "contact does not belong to location" {
		t.Errorf("response for other: %v", r)
	}
	if r := resp[3].(map[string]any); r["type"] != "error" || r["message"] != "contact not found" {
		t.Errorf("response for missing: %v", r)
	}
	if got := anyStrings(getContactT(t, e, a)["tags"]); !slices.Equal(got, []string{"old", "new"}) {
		t.Errorf("a tags %v", got)
	}
	if got := anyStrings(getContactT(t, e, b)["tags"]); !slices.Equal(got, []string{"new", "Old"}) {
		t.Errorf("b tags %v", got)
	}
	if got := e.do("GET", "/contacts/"+other, e.TokL2, nil).mustStatus(t, 200).JSON(t)["contact"].(map[string]any); len(anyStrings(got["tags"])) != 0 {
		t.Errorf("other location's contact was tagged: %v", got["tags"])
	}

	m = e.do("POST", "/contacts/bulk/tags/update/remove", e.TokL1, map[string]any{"locationId": e.L1, "contacts": []string{a}, "tags": []string{"OLD"}}).mustStatus(t, 201).JSON(t)
	if m["succeded"] != true || fmt.Sprint(m["responses"].([]any)[0].(map[string]any)["tagsRemoved"]) != "[old]" {
		t.Errorf("bulk remove %v", m)
	}
	e.do("POST", "/contacts/bulk/tags/update/remove", e.TokL1, map[string]any{"locationId": e.L1, "contacts": []string{b}, "tags": []string{}, "removeAllTags": true}).mustStatus(t, 201)
	if got := anyStrings(getContactT(t, e, b)["tags"]); len(got) != 0 {
		t.Errorf("removeAllTags left %v", got)
	}

	body := map[string]any{"locationId": e.L1, "contacts": []string{a}, "tags": []string{"x"}}
	wantError(t, e.do("POST", "/contacts/bulk/tags/update/toggle", e.TokL1, body), 422, "type must be one of add, remove")
	wantError(t, e.do("POST", "/contacts/bulk/tags/update/add", e.TokL1, map[string]any{"locationId": e.L1, "contacts": []string{a}, "tags": []string{"x"}, "removeAllTags": true}), 422, "removeAllTags can only be used with type remove")
	wantError(t, e.do("POST", "/contacts/bulk/tags/update/add", e.TokL1, map[string]any{"locationId": e.L1, "tags": []string{"x"}}), 422, "contacts should not be empty")
	// The spec omits the security block; the sandbox still wants a token
	// with contacts.write of the location.
	wantError(t, e.do("POST", "/contacts/bulk/tags/update/add", "", body), 401, sandbox.MsgInvalidToken)
	wantError(t, e.do("POST", "/contacts/bulk/tags/update/add", e.TokL1Read, body), 401, sandbox.MsgScope)
	wantError(t, e.do("POST", "/contacts/bulk/tags/update/add", e.TokL2, body), 403, sandbox.MsgLocation)
	if got := anyStrings(getContactT(t, e, a)["tags"]); slices.Contains(got, "x") {
		t.Errorf("refused bulk request tagged: %v", got)
	}
}

func TestContactNotes(t *testing.T) {
	e := newTestEnv(t, withContactClock)
	id := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1})["id"].(string)
	base := "/contacts/" + id + "/notes"
	n1 := e.do("POST", base, e.TokL1, map[string]any{"body": "first", "userId": "u1", "title": "T", "pinned": true}).mustStatus(t, 201).JSON(t)["note"].(map[string]any)
	if n1["body"] != "first" || n1["contactId"] != id || n1["userId"] != "u1" || n1["pinned"] != true || n1["dateAdded"] == nil {
		t.Errorf("created note %v", n1)
	}
	n2 := e.do("POST", base, e.TokL1, map[string]any{"body": "second"}).mustStatus(t, 201).JSON(t)["note"].(map[string]any)
	list := e.do("GET", base, e.TokL1, nil).mustStatus(t, 200).JSON(t)["notes"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["id"] != n2["id"] {
		t.Errorf("notes (newest first) %v", list)
	}
	e.do("PUT", base+"/"+n1["id"].(string), e.TokL1, map[string]any{"body": "edited"}).mustStatus(t, 200)
	got := e.do("GET", base+"/"+n1["id"].(string), e.TokL1, nil).mustStatus(t, 200).JSON(t)["note"].(map[string]any)
	if got["body"] != "edited" || got["title"] != "T" {
		t.Errorf("note after update %v", got)
	}
	m := e.do("DELETE", base+"/"+n2["id"].(string), e.TokL1, nil).mustStatus(t, 200).JSON(t)
	if m["succeded"] != true {
		t.Errorf("delete note %v", m)
	}
	wantError(t, e.do("GET", base+"/"+n2["id"].(string), e.TokL1, nil), 404, "Note not found")
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"body": ""}), 422, "body should not be empty")
	wantError(t, e.do("PUT", base+"/"+n1["id"].(string), e.TokL1, map[string]any{"body": " "}), 422, "body should not be empty")
	for typ, nid := range map[string]any{"NoteCreate": n1["id"], "NoteUpdate": n1["id"], "NoteDelete": n2["id"]} {
		if ev := contactEvents(t, e, typ, nid.(string)); len(ev) != 1 || ev[0]["contactId"] != id {
			t.Errorf("%s events %v", typ, ev)
		}
	}
	// Deleting the contact takes its notes.
	e.do("DELETE", "/contacts/"+id, e.TokL1, nil).mustStatus(t, 200)
	if n := countRecords(t, e, sandbox.KindNote, e.L1); n != 0 {
		t.Errorf("%d notes outlive their contact", n)
	}
}

func TestContactTasks(t *testing.T) {
	e := newTestEnv(t)
	id := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1})["id"].(string)
	base := "/contacts/" + id + "/tasks"
	m := e.do("POST", base, e.TokL1, map[string]any{"title": "x"}).mustStatus(t, 422).JSON(t)
	if msgs := strings.Join(anyStrings(m["message"]), "|"); !strings.Contains(msgs, "dueDate") || !strings.Contains(msgs, "completed must be a boolean value") {
		t.Errorf("missing fields: %v", msgs)
	}
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"title": "x", "dueDate": "tomorrow", "completed": false}), 422, "dueDate must be a valid ISO 8601 date string")

	task := e.do("POST", base, e.TokL1, map[string]any{"title": "Call", "body": "b", "dueDate": "2030-10-25T11:00:00Z", "completed": false, "assignedTo": "u1"}).mustStatus(t, 201).JSON(t)["task"].(map[string]any)
	tid := task["id"].(string)
	if task["title"] != "Call" || task["dueDate"] != "2030-10-25T11:00:00.000Z" || task["completed"] != false || task["contactId"] != id {
		t.Errorf("created task %v", task)
	}
	list := e.do("GET", base, e.TokL1, nil).mustStatus(t, 200).JSON(t)["tasks"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != tid {
		t.Errorf("tasks %v", list)
	}
	e.do("PUT", base+"/"+tid, e.TokL1, map[string]any{"title": "Call back"}).mustStatus(t, 200)
	if len(contactEvents(t, e, "TaskComplete", tid)) != 0 {
		t.Error("TaskComplete before completion")
	}
	got := e.do("PUT", base+"/"+tid+"/completed", e.TokL1, map[string]any{"completed": true}).mustStatus(t, 200).JSON(t)["task"].(map[string]any)
	if got["completed"] != true || got["title"] != "Call back" {
		t.Errorf("completed task %v", got)
	}
	got = e.do("GET", base+"/"+tid, e.TokL1, nil).mustStatus(t, 200).JSON(t)["task"].(map[string]any)
	if got["completed"] != true {
		t.Errorf("stored task %v", got)
	}
	// Completing again is no new completion.
	e.do("PUT", base+"/"+tid+"/completed", e.TokL1, map[string]any{"completed": true}).mustStatus(t, 200)
	if ev := contactEvents(t, e, "TaskComplete", tid); len(ev) != 1 {
		t.Errorf("TaskComplete events %d, want 1", len(ev))
	}
	wantError(t, e.do("PUT", base+"/"+tid+"/completed", e.TokL1, map[string]any{}), 422, "completed must be a boolean value")
	wantError(t, e.do("PUT", base+"/"+tid+"/completed", e.TokL1, map[string]any{"completed": "yes"}), 422, "completed must be a boolean")
	wantError(t, e.do("GET", base+"/"+sandbox.NewID(), e.TokL1, nil), 404, "Task not found")
	e.do("DELETE", base+"/"+tid, e.TokL1, nil).mustStatus(t, 200)
	wantError(t, e.do("GET", base+"/"+tid, e.TokL1, nil), 404, "Task not found")
	if len(contactEvents(t, e, "TaskCreate", tid)) != 1 || len(contactEvents(t, e, "TaskDelete", tid)) != 1 {
		t.Error("TaskCreate/TaskDelete events missing")
	}
}

func TestContactFollowersAndAppointments(t *testing.T) {
	e := newTestEnv(t)
	id := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1})["id"].(string)
	m := e.do("POST", "/contacts/"+id+"/followers", e.TokL1, map[string]any{"followers": []string{"u1", "u2", "u1"}}).mustStatus(t, 201).JSON(t)
	if fmt.Sprint(m["followers"]) != "[u1 u2]" || fmt.Sprint(m["followersAdded"]) != "[u1 u2]" {
		t.Errorf("add followers %v", m)
	}
	m = e.do("POST", "/contacts/"+id+"/followers", e.TokL1, map[string]any{"followers": []string{"u2", "u3"}}).mustStatus(t, 201).JSON(t)
	if fmt.Sprint(m["followers"]) != "[u1 u2 u3]" || fmt.Sprint(m["followersAdded"]) != "[u3]" {
		t.Errorf("add more followers %v", m)
	}
	m = e.do("DELETE", "/contacts/"+id+"/followers", e.TokL1, map[string]any{"followers": []string{"u1", "u9"}}).mustStatus(t, 200).JSON(t)
	if fmt.Sprint(m["followers"]) != "[u2 u3]" || fmt.Sprint(m["followersRemoved"]) != "[u1]" {
		t.Errorf("remove followers %v", m)
	}
	if got := anyStrings(getContactT(t, e, id)["followers"]); !slices.Equal(got, []string{"u2", "u3"}) {
		t.Errorf("stored followers %v", got)
	}
	wantError(t, e.do("POST", "/contacts/"+id+"/followers", e.TokL1, map[string]any{"followers": []string{}}), 422, "followers should not be empty")

	m = e.do("GET", "/contacts/"+id+"/appointments", e.TokL1, nil).mustStatus(t, 200).JSON(t)
	if ev, ok := m["events"].([]any); !ok || len(ev) != 0 {
		t.Errorf("appointments %v", m)
	}
}

func TestContactCampaignsAndWorkflows(t *testing.T) {
	e := newTestEnv(t)
	id := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1})["id"].(string)
	c1 := putContactRecord(t, e, sandbox.KindCampaign, e.L1, "", map[string]any{"name": "One"})
	c2 := putContactRecord(t, e, sandbox.KindCampaign, e.L1, "", map[string]any{"name": "Two"})
	cOther := putContactRecord(t, e, sandbox.KindCampaign, e.L2, "", map[string]any{"name": "Theirs"})
	wf := putContactRecord(t, e, sandbox.KindWorkflow, e.L1, "", map[string]any{"name": "Flow"})

	enrollments := func() []string {
		var keys []string
		err := e.Store.Read(context.Background(), func(tx sandbox.Tx) error {
			recs, err := tx.ListRecords(context.Background(), sandbox.RecordQuery{Kind: sandbox.KindEnrollment, ParentID: id})
			for _, r := range recs {
				keys = append(keys, r.Key)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(keys)
		return keys
	}
	for _, c := range []string{c1, c2, c1} {
		m := e.do("POST", "/contacts/"+id+"/campaigns/"+c, e.TokL1, map[string]any{}).mustStatus(t, 201).JSON(t)
		if m["succeded"] != true {
			t.Errorf("add to campaign %v", m)
		}
	}
	e.do("POST", "/contacts/"+id+"/workflow/"+wf, e.TokL1, map[string]any{"eventStartTime": "2021-06-23T03:30:00+01:00"}).mustStatus(t, 200)
	want := []string{"campaign:" + c1, "campaign:" + c2, "workflow:" + wf}
	sort.Strings(want)
	if got := enrollments(); !slices.Equal(got, want) {
		t.Errorf("enrollments %v, want %v", got, want)
	}
	var start string
	_ = e.Store.Read(context.Background(), func(tx sandbox.Tx) error {
		recs, _ := tx.ListRecords(context.Background(), sandbox.RecordQuery{Kind: sandbox.KindEnrollment, ParentID: id, Key: "workflow:" + wf})
		var en sandbox.Enrollment
		if len(recs) == 1 && json.Unmarshal(recs[0].Data, &en) == nil {
			start = en.EventStartTime.Format(time.RFC3339)
		}
		return nil
	})
	if start != "2021-06-23T02:30:00Z" {
		t.Errorf("workflow eventStartTime %q", start)
	}

	wantError(t, e.do("POST", "/contacts/"+id+"/campaigns/"+cOther, e.TokL1, map[string]any{}), 404, "Campaign not found")
	wantError(t, e.do("POST", "/contacts/"+id+"/campaigns/"+sandbox.NewID(), e.TokL1, map[string]any{}), 404, "Campaign not found")
	wantError(t, e.do("POST", "/contacts/"+id+"/workflow/"+sandbox.NewID(), e.TokL1, map[string]any{}), 404, "Workflow not found")
	wantError(t, e.do("POST", "/contacts/"+id+"/workflow/"+wf, e.TokL1, map[string]any{"eventStartTime": "later"}), 422, "eventStartTime must be a valid ISO 8601 date string")

	e.do("DELETE", "/contacts/"+id+"/campaigns/"+c1, e.TokL1, nil).mustStatus(t, 200)
	want = []string{"campaign:" + c2, "workflow:" + wf}
	sort.Strings(want)
	if got := enrollments(); !slices.Equal(got, want) {
		t.Errorf("after removing c1: %v", got)
	}
	e.do("DELETE", "/contacts/"+id+"/campaigns/removeAll", e.TokL1, nil).mustStatus(t, 200)
	if got := enrollments(); !slices.Equal(got, []string{"workflow:" + wf}) {
		t.Errorf("after removeAll: %v", got)
	}
	e.do("DELETE", "/contacts/"+id+"/workflow/"+wf, e.TokL1, map[string]any{"eventStartTime": "2021-06-23T03:30:00+01:00"}).mustStatus(t, 200)
	if got := enrollments(); len(got) != 0 {
		t.Errorf("after leaving the workflow: %v", got)
	}
}

func TestContactDnd(t *testing.T) {
	e := newTestEnv(t)
	c := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "dnd": true})
	id := c["id"].(string)
	settings := c["dndSettings"].(map[string]any)
	for _, ch := range sandbox.ContactDndChannels {
		if s, _ := settings[ch].(map[string]any); s["status"] != "active" {
			t.Errorf("dnd:true left %s %v", ch, settings[ch])
		}
	}
	// Opening one channel clears the all-channel flag.
	e.do("PUT", "/contacts/"+id, e.TokL1, map[string]any{"dndSettings": map[string]any{"SMS": map[string]any{"status": "inactive", "message": "opted in"}}}).mustStatus(t, 200)
	got := getContactT(t, e, id)
	sms := got["dndSettings"].(map[string]any)["SMS"].(map[string]any)
	if got["dnd"] != false || sms["status"] != "inactive" || sms["message"] != "opted in" || got["dndSettings"].(map[string]any)["Email"].(map[string]any)["status"] != "active" {
		t.Errorf("after SMS inactive: %v", got)
	}
	if ev := contactEvents(t, e, "ContactDndUpdate", id); len(ev) != 1 {
		t.Errorf("ContactDndUpdate events %d, want 1", len(ev))
	}
	e.do("PUT", "/contacts/"+id, e.TokL1, map[string]any{"firstName": "no dnd change"}).mustStatus(t, 200)
	if ev := contactEvents(t, e, "ContactDndUpdate", id); len(ev) != 1 {
		t.Errorf("a non-DND update emitted ContactDndUpdate")
	}
	wantError(t, e.do("PUT", "/contacts/"+id, e.TokL1, map[string]any{"dndSettings": map[string]any{"SMS": map[string]any{"status": "paused"}}}), 422, "dndSettings.SMS.status must be one of active, inactive, permanent")
	wantError(t, e.do("PUT", "/contacts/"+id, e.TokL1, map[string]any{"dndSettings": map[string]any{"Pigeon": map[string]any{"status": "active"}}}), 422, "dndSettings.Pigeon is not a channel")
	wantError(t, e.do("PUT", "/contacts/"+id, e.TokL1, map[string]any{"inboundDndSettings": map[string]any{"all": map[string]any{"status": "permanent"}}}), 422, "inboundDndSettings.all.status must be one of active, inactive")
}

func TestGetDuplicateContact(t *testing.T) {
	e := newTestEnv(t)
	id := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "email": "dup@example.com", "phone": "+14155550199"})["id"].(string)
	get := func(q string) map[string]any {
		t.Helper()
		return e.do("GET", "/contacts/search/duplicate?locationId="+e.L1+"&"+q, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	}
	for _, q := range []string{"email=DUP@example.com", "number=" + url.QueryEscape("(415) 555-0199"), "number=%2B14155550199", "email=nobody@example.com&number=4155550199"} {
		if c, _ := get(q)["contact"].(map[string]any); c["id"] != id {
			t.Errorf("%s: %v", q, c)
		}
	}
	if m := get("email=nobody@example.com"); m["contact"] != nil {
		t.Errorf("no match answered %v", m)
	}
	wantError(t, e.do("GET", "/contacts/search/duplicate?locationId="+e.L1, e.TokL1, nil), 422, "email or number must be given")
	wantError(t, e.do("GET", "/contacts/search/duplicate?locationId="+e.L1+"&number=abc", e.TokL1, nil), 422, "number must be a valid phone number")
	wantError(t, e.do("GET", "/contacts/search/duplicate?locationId="+e.L1+"&email=dup@example.com", e.TokL2, nil), 403, sandbox.MsgLocation)
}

func TestContactsByBusiness(t *testing.T) {
	e := newTestEnv(t, withContactClock)
	var ids []string
	for i := range 5 {
		ids = append(ids, createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "firstName": fmt.Sprintf("P%d", i)})["id"].(string))
	}
	other := createContactT(t, e, e.TokL2, map[string]any{"locationId": e.L2})["id"].(string)
	biz := "641c094001436dbc2081e642"
	m := e.do("POST", "/contacts/bulk/business", e.TokL1, map[string]any{"locationId": e.L1, "ids": append(slices.Clone(ids[:4]), other, sandbox.NewID()), "businessId": biz}).mustStatus(t, 200).JSON(t)
	if m["success"] != true || !slices.Equal(anyStrings(m["ids"]), ids[:4]) {
		t.Errorf("bulk business %v", m)
	}
	if c := getContactT(t, e, ids[0]); c["businessId"] != biz {
		t.Errorf("businessId not stored: %v", c["businessId"])
	}
	list := func(q string) map[string]any {
		return e.do("GET", "/contacts/business/"+biz+"?locationId="+e.L1+q, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	}
	m = list("&limit=3")
	if m["count"] != float64(4) || len(m["contacts"].([]any)) != 3 {
		t.Errorf("first page %v", m)
	}
	m = list("&limit=3&skip=3")
	if cs := m["contacts"].([]any); len(cs) != 1 || cs[0].(map[string]any)["id"] != ids[3] {
		t.Errorf("second page %v", m)
	}
	if m = list("&query=P2"); m["count"] != float64(1) {
		t.Errorf("query %v", m)
	}
	// null unlinks.
	e.do("POST", "/contacts/bulk/business", e.TokL1, map[string]any{"locationId": e.L1, "ids": ids[:2], "businessId": nil}).mustStatus(t, 200)
	if m = list(""); m["count"] != float64(2) {
		t.Errorf("after unlink %v", m)
	}
	wantError(t, e.do("POST", "/contacts/bulk/business", e.TokL1, map[string]any{"locationId": e.L1, "ids": ids[:1]}), 422, "businessId must be a string or null")
	wantError(t, e.do("POST", "/contacts/bulk/business", e.TokL2, map[string]any{"locationId": e.L1, "ids": ids[:1], "businessId": biz}), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", "/contacts/business/"+biz+"?locationId="+e.L1+"&limit=x", e.TokL1, nil), 422, "limit must be an integer number")
}

func TestListContactsDeprecated(t *testing.T) {
	e := newTestEnv(t, withContactClock)
	var want []string
	for i := range 7 {
		want = append(want, createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "firstName": fmt.Sprintf("Person%d", i)})["id"].(string))
	}
	createContactT(t, e, e.TokL2, map[string]any{"locationId": e.L2, "firstName": "Elsewhere"})

	var got []string
	path := "/contacts/?locationId=" + e.L1 + "&limit=3"
	for page := 1; ; page++ {
		m := e.do("GET", path, e.TokL1, nil).mustStatus(t, 200).JSON(t)
		meta := m["meta"].(map[string]any)
		if m["count"] != float64(7) || meta["total"] != float64(7) || meta["currentPage"] != float64(page) {
			t.Fatalf("page %d: count %v meta %v", page, m["count"], meta)
		}
		for _, c := range m["contacts"].([]any) {
			got = append(got, c.(map[string]any)["id"].(string))
		}
		if meta["nextPage"] == nil {
			if page != 3 || meta["nextPageUrl"] != nil {
				t.Errorf("last page %d meta %v", page, meta)
			}
			break
		}
		if page > 1 && meta["prevPage"] != float64(page-1) {
			t.Errorf("prevPage %v on page %d", meta["prevPage"], page)
		}
		u, err := url.Parse(meta["nextPageUrl"].(string))
		if err != nil || u.Query().Get("startAfterId") != meta["startAfterId"] {
			t.Fatalf("nextPageUrl %v", meta["nextPageUrl"])
		}
		path = u.RequestURI()
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged ids %v, want %v (dateAdded ascending, each once)", got, want)
	}

	// startAfterId alone continues after that contact.
	m := e.do("GET", "/contacts/?locationId="+e.L1+"&limit=2&startAfterId="+want[4], e.TokL1, nil).mustStatus(t, 200).JSON(t)
	if ids := contactIDs(m["contacts"]); !slices.Equal(ids, want[5:7]) {
		t.Errorf("after %s: %v", want[4], ids)
	}
	// query narrows and count follows it.
	if m = e.do("GET", "/contacts/?locationId="+e.L1+"&query=person3", e.TokL1, nil).mustStatus(t, 200).JSON(t); m["count"] != float64(1) {
		t.Errorf("query: %v", m)
	}
	wantError(t, e.do("GET", "/contacts/?locationId="+e.L1+"&limit=101", e.TokL1, nil), 422, "limit must not be greater than 100")
	wantError(t, e.do("GET", "/contacts/?locationId="+e.L1+"&startAfter=soon", e.TokL1, nil), 422, "startAfter must be a number")
	wantError(t, e.do("GET", "/contacts/", e.TokL1, nil), 422, "locationId should not be empty")
}

func contactIDs(v any) []string {
	var out []string
	for _, c := range v.([]any) {
		out = append(out, c.(map[string]any)["id"].(string))
	}
	return out
}
