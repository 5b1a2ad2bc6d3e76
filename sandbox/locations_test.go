package sandbox_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// wantError checks a GHL error answer: the status, statusCode and a message
// (a string, or an array of validation messages) containing msg.
func wantError(t *testing.T, res *response, status int, msg string) {
	t.Helper()
	m := res.mustStatus(t, status).JSON(t)
	if m["statusCode"] != float64(status) {
		t.Errorf("statusCode = %v, want %d", m["statusCode"], status)
	}
	var text string
	switch v := m["message"].(type) {
	case string:
		text = v
	case []any:
		parts := make([]string, len(v))
		for i, p := range v {
			parts[i] = fmt.Sprint(p)
		}
		text = strings.Join(parts, "; ")
		if status != 422 {
			t.Errorf("array message on a %d: %v", status, v)
		}
	default:
		t.Fatalf("message %T %v", v, v)
	}
	if !strings.Contains(text, msg) {
		t.Errorf("message %q does not contain %q", text, msg)
	}
}

// outboxEvents returns the payloads of the outbox events of a type, oldest
// first, read straight from the SQLite store.
func outboxEvents(t *testing.T, e *testEnv, typ string) []map[string]any {
	t.Helper()
	db, ok := e.Store.(interface{ ReadDB() *sql.DB })
	if !ok {
		t.Fatalf("store %T does not expose its database", e.Store)
	}
	rows, err := db.ReadDB().Query(`SELECT payload FROM events WHERE type = ? ORDER BY seq`, typ)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// issueToken mints a PIT for a location (or, with loc empty, for the
// company) with the scopes, or every scope when none are named.
func issueToken(t *testing.T, e *testEnv, company, loc string, scopes ...string) string {
	t.Helper()
	if len(scopes) == 0 {
		scopes = sandbox.AllScopes()
	}
	userType := sandbox.UserTypeLocation
	if loc == "" {
		userType = sandbox.UserTypeCompany
	}
	var secret string
	err := e.Store.Write(context.Background(), func(tx sandbox.Tx) error {
		var err error
		secret, err = sandbox.IssueToken(context.Background(), tx, &sandbox.Token{Type: sandbox.TokenPIT, UserType: userType, CompanyID: company, LocationID: loc, Scopes: scopes}, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// countRecords counts stored records of a kind in a location.
func countRecords(t *testing.T, e *testEnv, kind sandbox.Kind, loc string) int {
	t.Helper()
	var n int
	err := e.Store.Read(context.Background(), func(tx sandbox.Tx) error {
		var err error
		n, err = tx.CountRecords(context.Background(), sandbox.RecordQuery{Kind: kind, LocationID: loc})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGetLocation(t *testing.T) {
	e := newTestEnv(t)
	for _, tok := range []string{e.TokL1, e.TokC1} {
		loc := e.do("GET", "/locations/"+e.L1, tok, nil).mustStatus(t, 200).JSON(t)["location"].(map[string]any)
		if loc["id"] != e.L1 || loc["companyId"] != e.C1 || loc["name"] != "Location One" || loc["timezone"] != "America/New_York" {
			t.Errorf("location = %v", loc)
		}
		if st, _ := loc["settings"].(map[string]any); st == nil || st["allowDuplicateContact"] != false {
			t.Errorf("settings = %v", loc["settings"])
		}
	}
	wantError(t, e.do("GET", "/locations/"+e.L1, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", "/locations/"+e.L1, e.TokC2, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", "/locations/"+e.L1, e.TokL1Read, nil), 401, sandbox.MsgScope)
	// An agency token cannot tell a missing location from another agency's.
	wantError(t, e.do("GET", "/locations/"+sandbox.NewID(), e.TokC1, nil), 403, sandbox.MsgLocation)
}

func TestSearchLocations(t *testing.T) {
	e := newTestEnv(t)
	ids := func(res *response) []string {
		var out []string
		for _, l := range res.mustStatus(t, 200).JSON(t)["locations"].([]any) {
			out = append(out, l.(map[string]any)["id"].(string))
		}
		return out
	}
	if got := ids(e.do("GET", "/locations/search", e.TokC1, nil)); fmt.Sprint(got) != fmt.Sprint([]string{e.L1, e.L2}) {
		t.Errorf("agency search = %v, want L1, L2", got)
	}
	if got := ids(e.do("GET", "/locations/search?companyId="+e.C1+"&order=desc", e.TokC1, nil)); fmt.Sprint(got) != fmt.Sprint([]string{e.L2, e.L1}) {
		t.Errorf("desc = %v", got)
	}
	if got := ids(e.do("GET", "/locations/search?skip=1&limit=1", e.TokC1, nil)); fmt.Sprint(got) != fmt.Sprint([]string{e.L2}) {
		t.Errorf("skip 1 limit 1 = %v", got)
	}
	if got := ids(e.do("GET", "/locations/search", e.TokC2, nil)); fmt.Sprint(got) != fmt.Sprint([]string{e.L3}) {
		t.Errorf("C2 search = %v", got)
	}
	// A location token sees only its own location.
	if got := ids(e.do("GET", "/locations/search?companyId="+e.C1, e.TokL2, nil)); fmt.Sprint(got) != fmt.Sprint([]string{e.L2}) {
		t.Errorf("location token search = %v", got)
	}
	// email filter, after setting one.
	e.do("PUT", "/locations/"+e.L2, e.TokC1, map[string]any{"companyId": e.C1, "email": "Two@Example.com"}).mustStatus(t, 200)
	if got := ids(e.do("GET", "/locations/search?email=two@example.com", e.TokC1, nil)); fmt.Sprint(got) != fmt.Sprint([]string{e.L2}) {
		t.Errorf("email search = %v", got)
	}
	wantError(t, e.do("GET", "/locations/search?companyId="+e.C1, e.TokC2, nil), 403, "company")
	wantError(t, e.do("GET", "/locations/search?limit=ten", e.TokC1, nil), 422, "limit must be a number string")
	wantError(t, e.do("GET", "/locations/search?order=up", e.TokC1, nil), 422, "order must be one of")
	wantError(t, e.do("GET", "/locations/search", e.TokL1Read, nil), 401, sandbox.MsgScope)
}

func TestCreateUpdateDeleteLocation(t *testing.T) {
	e := newTestEnv(t)
	body := map[string]any{
		"name": "Mark Shoes", "companyId": e.C1, "phone": "+14155550100", "email": "mark@shoes.com",
		"country": "US", "timezone": "US/Central", "address": "4th fleet street",
		"settings": map[string]any{"allowDuplicateContact": true},
	}
	created := e.do("POST", "/locations/", e.TokC1, body).mustStatus(t, 200).JSON(t)
	id, _ := created["id"].(string)
	if len(id) != 20 || created["companyId"] != e.C1 || created["name"] != "Mark Shoes" || created["country"] != "US" {
		t.Fatalf("created = %v", created)
	}
	loc := e.do("GET", "/locations/"+id, e.TokC1, nil).mustStatus(t, 200).JSON(t)["location"].(map[string]any)
	if loc["email"] != "mark@shoes.com" || loc["timezone"] != "US/Central" || loc["settings"].(map[string]any)["allowDuplicateContact"] != true {
		t.Errorf("read back = %v", loc)
	}
	evs := outboxEvents(t, e, "LocationCreate")
	if len(evs) != 1 || evs[0]["id"] != id || evs[0]["companyId"] != e.C1 || evs[0]["name"] != "Mark Shoes" || evs[0]["webhookId"] == nil {
		t.Errorf("LocationCreate events = %v", evs)
	}

	// An update touches only what it names; settings is the sandbox's
	// switch for duplicate contacts.
	upd := e.do("PUT", "/locations/"+id, e.TokC1, map[string]any{"companyId": e.C1, "settings": map[string]any{"allowDuplicateContact": false, "allowDuplicateOpportunity": true}}).mustStatus(t, 200).JSON(t)
	if upd["name"] != "Mark Shoes" || upd["settings"].(map[string]any)["allowDuplicateContact"] != false {
		t.Errorf("update = %v", upd)
	}
	e.do("PUT", "/locations/"+id, e.TokC1, map[string]any{"companyId": e.C1, "name": "Mark's Shoes", "social": map[string]any{"yelp": "https://yelp.com/x"}}).mustStatus(t, 200)
	loc = e.do("GET", "/locations/"+id, e.TokC1, nil).mustStatus(t, 200).JSON(t)["location"].(map[string]any)
	st := loc["settings"].(map[string]any)
	if loc["name"] != "Mark's Shoes" || st["allowDuplicateContact"] != false || st["allowDuplicateOpportunity"] != true || loc["social"].(map[string]any)["yelp"] != "https://yelp.com/x" {
		t.Errorf("after updates = %v", loc)
	}
	if evs := outboxEvents(t, e, "LocationUpdate"); len(evs) != 2 || evs[1]["name"] != "Mark's Shoes" {
		t.Errorf("LocationUpdate events = %v", evs)
	}

	// Validation, malformed bodies, classes and other agencies.
	wantError(t, e.do("POST", "/locations/", e.TokC1, map[string]any{"companyId": e.C1}), 422, "name should not be empty")
	wantError(t, e.do("POST", "/locations/", e.TokC1, map[string]any{"name": "X", "companyId": e.C1, "email": "nope"}), 422, "email must be an email")
	wantError(t, e.do("POST", "/locations/", e.TokC1, map[string]any{"name": "X", "companyId": e.C1, "country": "USA"}), 422, "country")
	wantError(t, e.do("POST", "/locations/", e.TokC1, map[string]any{"name": "X", "companyId": e.C1, "timezone": "Mars/Olympus"}), 422, "timezone")
	wantError(t, e.do("POST", "/locations/", e.TokC1, map[string]any{"name": 5, "companyId": e.C1}), 422, "name must be a string")
	wantError(t, e.do("POST", "/locations/", e.TokC1, `{"name": "X",`), 400, "Unexpected token")
	wantError(t, e.do("POST", "/locations/", e.TokC1, map[string]any{"name": "X", "companyId": e.C2}), 403, "company")
	wantError(t, e.do("POST", "/locations/", e.TokL1, map[string]any{"name": "X", "companyId": e.C1}), 401, sandbox.MsgAuthClass)
	wantError(t, e.do("PUT", "/locations/"+e.L1, e.TokL1, map[string]any{"name": "X"}), 401, sandbox.MsgAuthClass)
	wantError(t, e.do("PUT", "/locations/"+e.L1, e.TokC2, map[string]any{"name": "X"}), 403, sandbox.MsgLocation)
	wantError(t, e.do("PUT", "/locations/"+id, e.TokC1, map[string]any{"name": ""}), 422, "name should not be empty")
	wantError(t, e.do("PUT", "/locations/"+id, e.TokC1, `{"name"`), 400, "")

	// Delete takes the location's tags, fields and values with it, and
	// users lose access to it.
	tok := issueToken(t, e, e.C1, id)
	e.do("POST", "/locations/"+id+"/tags", tok, map[string]any{"name": "vip"}).mustStatus(t, 200)
	e.do("POST", "/locations/"+id+"/customFields", tok, map[string]any{"name": "Pin", "dataType": "TEXT"}).mustStatus(t, 201)
	e.do("POST", "/locations/"+id+"/customValues", tok, map[string]any{"name": "Hours", "value": "9-5"}).mustStatus(t, 201)
	user := e.do("POST", "/users/", e.TokC1, map[string]any{"companyId": e.C1, "firstName": "A", "lastName": "B", "email": "ab@x.com", "password": "pw", "type": "account", "role": "user", "locationIds": []string{e.L1, id}}).mustStatus(t, 201).JSON(t)

	contactID := sandbox.NewID()
	err := e.Store.Write(context.Background(), func(tx sandbox.Tx) error {
		return tx.InsertContact(context.Background(), &sandbox.Contact{ID: contactID, LocationID: id, FirstName: "Gone", Tags: []string{}, CustomFields: []sandbox.CustomFieldValue{}})
	})
	if err != nil {
		t.Fatal(err)
	}

	wantError(t, e.do("DELETE", "/locations/"+id, e.TokC1, nil), 422, "deleteTwilioAccount")
	wantError(t, e.do("DELETE", "/locations/"+id+"?deleteTwilioAccount=maybe", e.TokC1, nil), 422, "deleteTwilioAccount must be a boolean")
	wantError(t, e.do("DELETE", "/locations/"+id+"?deleteTwilioAccount=false", e.TokL1, nil), 401, sandbox.MsgAuthClass)
	wantError(t, e.do("DELETE", "/locations/"+id+"?deleteTwilioAccount=false", e.TokC2, nil), 403, sandbox.MsgLocation)
	del := e.do("DELETE", "/locations/"+id+"?deleteTwilioAccount=false", e.TokC1, nil).mustStatus(t, 200).JSON(t)
	if del["success"] != true || del["message"] != "Deleted location with id: "+id {
		t.Errorf("delete = %v", del)
	}
	wantError(t, e.do("GET", "/locations/"+id, tok, nil), 404, "Location not found")
	err = e.Store.Read(context.Background(), func(tx sandbox.Tx) error {
		_, err := tx.GetContact(context.Background(), contactID)
		return err
	})
	if !sandbox.IsNotFound(err) {
		t.Errorf("contact of the deleted location: err = %v, want not found", err)
	}
	for _, kind := range []sandbox.Kind{sandbox.KindTag, sandbox.KindCustomField, sandbox.KindCustomValue} {
		if n := countRecords(t, e, kind, id); n != 0 {
			t.Errorf("%d %s records left", n, kind)
		}
	}
	u := e.do("GET", "/users/"+user["id"].(string), e.TokC1, nil).mustStatus(t, 200).JSON(t)
	if locs := fmt.Sprint(u["roles"].(map[string]any)["locationIds"]); locs != fmt.Sprint([]any{e.L1}) {
		t.Errorf("user locations after delete = %s", locs)
	}
	if got := len(e.do("GET", "/locations/search", e.TokC1, nil).mustStatus(t, 200).JSON(t)["locations"].([]any)); got != 2 {
		t.Errorf("%d locations after delete, want 2", got)
	}
}

func TestLocationTags(t *testing.T) {
	e := newTestEnv(t)
	base := "/locations/" + e.L1 + "/tags"
	tag := e.do("POST", base, e.TokL1, map[string]any{"name": "VIP Customer"}).mustStatus(t, 200).JSON(t)["tag"].(map[string]any)
	id, _ := tag["id"].(string)
	if len(id) != 20 || tag["name"] != "VIP Customer" || tag["locationId"] != e.L1 {
		t.Fatalf("tag = %v", tag)
	}
	e.do("POST", base, e.TokL1, map[string]any{"name": "alpha"}).mustStatus(t, 200)
	e.do("POST", "/locations/"+e.L2+"/tags", e.TokL2, map[string]any{"name": "other"}).mustStatus(t, 200)

	list := e.do("GET", base, e.TokL1, nil).mustStatus(t, 200).JSON(t)["tags"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["name"] != "alpha" || list[1].(map[string]any)["id"] != id {
		t.Errorf("list = %v", list)
	}
	got := e.do("GET", base+"/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)["tag"].(map[string]any)
	if got["name"] != "VIP Customer" {
		t.Errorf("get = %v", got)
	}
	// Names are unique per location regardless of case.
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"name": "vip customer"}), 400, "Tag already exists")
	e.do("POST", "/locations/"+e.L2+"/tags", e.TokL2, map[string]any{"name": "VIP Customer"}).mustStatus(t, 200)

	upd := e.do("PUT", base+"/"+id, e.TokL1, map[string]any{"name": "Gold"}).mustStatus(t, 200).JSON(t)["tag"].(map[string]any)
	if upd["name"] != "Gold" || upd["id"] != id {
		t.Errorf("update = %v", upd)
	}
	if got := e.do("GET", base+"/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)["tag"].(map[string]any); got["name"] != "Gold" {
		t.Errorf("after rename = %v", got)
	}
	// The old name is free again, the new one is taken.
	e.do("POST", base, e.TokL1, map[string]any{"name": "vip customer"}).mustStatus(t, 200)
	wantError(t, e.do("PUT", base+"/"+id, e.TokL1, map[string]any{"name": "ALPHA"}), 400, "Tag already exists")
	e.do("PUT", base+"/"+id, e.TokL1, map[string]any{"name": "gold"}).mustStatus(t, 200) // same tag, new case

	// Validation and malformed bodies.
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"name": "  "}), 422, "name should not be empty")
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"name": 3}), 422, "name must be a string")
	wantError(t, e.do("PUT", base+"/"+id, e.TokL1, map[string]any{}), 422, "name should not be empty")
	wantError(t, e.do("POST", base, e.TokL1, `{"name":`), 400, "")

	// Access: another location's path, another location's tag under one's
	// own path, agency tokens (class), scopes.
	wantError(t, e.do("GET", base+"/"+id, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", "/locations/"+e.L2+"/tags/"+id, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("PUT", "/locations/"+e.L2+"/tags/"+id, e.TokL2, map[string]any{"name": "x"}), 403, sandbox.MsgLocation)
	wantError(t, e.do("DELETE", "/locations/"+e.L2+"/tags/"+id, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", base, e.TokL3, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", base, e.TokC1, nil), 401, sandbox.MsgAuthClass)
	wantError(t, e.do("GET", base, e.TokL1Read, nil), 401, sandbox.MsgScope)
	wantError(t, e.do("POST", base, e.TokL1Read, map[string]any{"name": "x"}), 401, sandbox.MsgScope)

	del := e.do("DELETE", base+"/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	if del["succeded"] != true {
		t.Errorf("delete = %v", del)
	}
	wantError(t, e.do("GET", base+"/"+id, e.TokL1, nil), 404, "Tag not found")
	wantError(t, e.do("PUT", base+"/"+id, e.TokL1, map[string]any{"name": "x"}), 404, "Tag not found")
	wantError(t, e.do("DELETE", base+"/"+id, e.TokL1, nil), 404, "Tag not found")
	if n := len(e.do("GET", base, e.TokL1, nil).mustStatus(t, 200).JSON(t)["tags"].([]any)); n != 2 {
		t.Errorf("%d tags after delete, want 2", n)
	}
}

func TestLocationCustomValues(t *testing.T) {
	e := newTestEnv(t)
	base := "/locations/" + e.L1 + "/customValues"
	cv := e.do("POST", base, e.TokL1, map[string]any{"name": "Office Hours", "value": "9-5"}).mustStatus(t, 201).JSON(t)["customValue"].(map[string]any)
	id, _ := cv["id"].(string)
	if len(id) != 20 || cv["fieldKey"] != "{{ custom_values.office_hours }}" || cv["value"] != "9-5" || cv["locationId"] != e.L1 {
		t.Fatalf("created = %v", cv)
	}
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"name": "office hours", "value": "x"}), 400, "already exists")
	list := e.do("GET", base, e.TokL1, nil).mustStatus(t, 200).JSON(t)["customValues"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Errorf("list = %v", list)
	}
	upd := e.do("PUT", base+"/"+id, e.TokL1, map[string]any{"name": "Opening Hours", "value": "8-6"}).mustStatus(t, 200).JSON(t)["customValue"].(map[string]any)
	if upd["value"] != "8-6" || upd["fieldKey"] != "{{ custom_values.opening_hours }}" {
		t.Errorf("update = %v", upd)
	}
	got := e.do("GET", base+"/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)["customValue"].(map[string]any)
	if got["name"] != "Opening Hours" || got["value"] != "8-6" {
		t.Errorf("read back = %v", got)
	}

	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"name": "x"}), 422, "value must be a string")
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"value": "x"}), 422, "name should not be empty")
	wantError(t, e.do("POST", base, e.TokL1, "[1"), 400, "")
	wantError(t, e.do("GET", "/locations/"+e.L2+"/customValues/"+id, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", base, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", base, e.TokC1, nil), 401, sandbox.MsgAuthClass)
	wantError(t, e.do("GET", base, e.TokL1Read, nil), 401, sandbox.MsgScope)

	if m := e.do("DELETE", base+"/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t); m["succeded"] != true {
		t.Errorf("delete = %v", m)
	}
	wantError(t, e.do("GET", base+"/"+id, e.TokL1, nil), 404, "Custom value not found")
	wantError(t, e.do("DELETE", base+"/"+id, e.TokL1, nil), 404, "Custom value not found")
}

func TestLocationTimezonesAndTemplates(t *testing.T) {
	e := newTestEnv(t)
	tz := e.do("GET", "/locations/"+e.L1+"/timezones", e.TokL1, nil).mustStatus(t, 200).JSON(t)["timezones"].([]any)
	has := map[any]bool{}
	for _, z := range tz {
		has[z] = true
	}
	for _, z := range []string{"America/New_York", "Europe/London", "Asia/Kolkata", "US/Central", "UTC"} {
		if !has[z] {
			t.Errorf("timezones lack %s", z)
		}
	}
	if len(tz) < 300 {
		t.Errorf("only %d timezones", len(tz))
	}
	wantError(t, e.do("GET", "/locations/"+e.L1+"/timezones", e.TokL2, nil), 403, sandbox.MsgLocation)

	tpl := e.do("GET", "/locations/"+e.L1+"/templates?originId="+e.L1, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	if list, ok := tpl["templates"].([]any); !ok || len(list) != 0 || tpl["totalCount"] != float64(0) {
		t.Errorf("templates = %v", tpl)
	}
	wantError(t, e.do("GET", "/locations/"+e.L1+"/templates?originId="+e.L1+"&type=fax", e.TokL1, nil), 422, "type must be one of")
	wantError(t, e.do("GET", "/locations/"+e.L1+"/templates?originId="+e.L1, e.TokL2, nil), 403, sandbox.MsgLocation)
	e.do("DELETE", "/locations/"+e.L1+"/templates/"+sandbox.NewID(), e.TokL1, nil).mustStatus(t, 200)
}

func TestLocationTaskSearch(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	c1, c2, other := sandbox.NewID(), sandbox.NewID(), sandbox.NewID()
	tasks := []struct {
		id, loc, contact, title, assigned, due string
		done                                   bool
	}{
		{"T1", e.L1, c1, "Call back", "u1", "2024-01-03T10:00:00.000Z", false},
		{"T2", e.L1, c1, "Send quote", "u2", "2024-01-01T10:00:00.000Z", true},
		{"T3", e.L1, c2, "Call again", "u1", "2024-01-02T10:00:00.000Z", false},
		{"T4", e.L2, other, "Call elsewhere", "u1", "2024-01-01T09:00:00.000Z", false},
	}
	err := e.Store.Write(ctx, func(tx sandbox.Tx) error {
		for _, tk := range tasks {
			doc := map[string]any{"id": tk.id, "title": tk.title, "body": "about " + tk.title, "assignedTo": tk.assigned, "dueDate": tk.due, "completed": tk.done, "contactId": tk.contact}
			if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindTask, ID: tk.id, LocationID: tk.loc, ParentID: tk.contact}, doc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	path := "/locations/" + e.L1 + "/tasks/search"
	search := func(body any) string {
		t.Helper()
		var ids []string
		for _, tk := range e.do("POST", path, e.TokL1, body).mustStatus(t, 200).JSON(t)["tasks"].([]any) {
			ids = append(ids, tk.(map[string]any)["id"].(string))
		}
		return strings.Join(ids, ",")
	}
	for _, c := range []struct {
		body any
		want string
	}{
		{map[string]any{}, "T2,T3,T1"}, // by due date, only this location
		{map[string]any{"completed": false}, "T3,T1"},
		{map[string]any{"contactId": []string{c1}}, "T2,T1"},
		{map[string]any{"assignedTo": []string{"u1"}}, "T3,T1"},
		{map[string]any{"query": "call"}, "T3,T1"},
		{map[string]any{"query": "ABOUT SEND"}, "T2"},
		{map[string]any{"limit": 1, "skip": 1}, "T3"},
		{map[string]any{"contactId": []string{other}}, ""},
	} {
		if got := search(c.body); got != c.want {
			t.Errorf("search %v = %q, want %q", c.body, got, c.want)
		}
	}
	full := e.do("POST", path, e.TokL1, map[string]any{"query": "quote"}).mustStatus(t, 200).JSON(t)["tasks"].([]any)[0].(map[string]any)
	if full["title"] != "Send quote" || full["completed"] != true || full["contactId"] != c1 {
		t.Errorf("task document = %v", full)
	}
	wantError(t, e.do("POST", path, e.TokL1, map[string]any{"limit": 0}), 422, "limit must not be less than 1")
	wantError(t, e.do("POST", path, e.TokL1, map[string]any{"completed": "yes"}), 422, "completed must be a boolean")
	wantError(t, e.do("POST", path, e.TokL1, `{`), 400, "")
	wantError(t, e.do("POST", path, e.TokL2, map[string]any{}), 403, sandbox.MsgLocation)
	wantError(t, e.do("POST", path, e.TokC1, map[string]any{}), 401, sandbox.MsgAuthClass)
	wantError(t, e.do("POST", path, e.TokL1Read, map[string]any{}), 401, sandbox.MsgScope)
}

// authCase is one request expected to fail before its handler runs.
type authCase struct {
	method, path, token string
	body                any
	status              int
	msg                 string
}

func runAuthCases(t *testing.T, e *testEnv, cases []authCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			wantError(t, e.do(c.method, c.path, c.token, c.body), c.status, c.msg)
		})
	}
}

// TestLocationRoutesRefuse covers, per route, the token class, the scope and
// malformed bodies not covered by the feature tests above.
func TestLocationRoutesRefuse(t *testing.T) {
	e := newTestEnv(t)
	agencyNoScope := issueToken(t, e, e.C1, "", "contacts.readonly")
	tag := e.do("POST", "/locations/"+e.L1+"/tags", e.TokL1, map[string]any{"name": "t"}).mustStatus(t, 200).JSON(t)["tag"].(map[string]any)["id"].(string)
	cv := e.do("POST", "/locations/"+e.L1+"/customValues", e.TokL1, map[string]any{"name": "v", "value": "1"}).mustStatus(t, 201).JSON(t)["customValue"].(map[string]any)["id"].(string)
	l1 := "/locations/" + e.L1
	runAuthCases(t, e, []authCase{
		{"GET", l1, agencyNoScope, nil, 401, sandbox.MsgScope},
		{"GET", "/locations/search", agencyNoScope, nil, 401, sandbox.MsgScope},
		{"PUT", l1, agencyNoScope, map[string]any{"name": "x"}, 401, sandbox.MsgScope},
		{"POST", "/locations/", agencyNoScope, map[string]any{"name": "x", "companyId": e.C1}, 401, sandbox.MsgScope},
		{"DELETE", l1 + "?deleteTwilioAccount=false", agencyNoScope, nil, 401, sandbox.MsgScope},
		{"POST", l1 + "/tags", e.TokC1, map[string]any{"name": "x"}, 401, sandbox.MsgAuthClass},
		{"GET", l1 + "/tags/" + tag, e.TokC1, nil, 401, sandbox.MsgAuthClass},
		{"PUT", l1 + "/tags/" + tag, e.TokL1, `{"name":`, 400, ""},
		{"PUT", l1 + "/tags/" + tag, e.TokC1, map[string]any{"name": "x"}, 401, sandbox.MsgAuthClass},
		{"DELETE", l1 + "/tags/" + tag, e.TokC1, nil, 401, sandbox.MsgAuthClass},
		{"POST", l1 + "/customValues", e.TokL1Read, map[string]any{"name": "x", "value": "y"}, 401, sandbox.MsgScope},
		{"POST", l1 + "/customValues", e.TokC1, map[string]any{"name": "x", "value": "y"}, 401, sandbox.MsgAuthClass},
		{"PUT", l1 + "/customValues/" + cv, e.TokL1, `{"name":`, 400, ""},
		{"PUT", l1 + "/customValues/" + cv, e.TokL1, map[string]any{"name": "v"}, 422, "value must be a string"},
		{"PUT", "/locations/" + e.L2 + "/customValues/" + cv, e.TokL2, map[string]any{"name": "v", "value": "2"}, 403, sandbox.MsgLocation},
		{"DELETE", "/locations/" + e.L2 + "/customValues/" + cv, e.TokL2, nil, 403, sandbox.MsgLocation},
		{"PUT", l1 + "/customValues/" + sandbox.NewID(), e.TokL1, map[string]any{"name": "v", "value": "2"}, 404, "Custom value not found"},
		{"GET", l1 + "/timezones", e.TokC1, nil, 401, sandbox.MsgAuthClass},
		{"GET", l1 + "/timezones", e.TokL1Read, nil, 401, sandbox.MsgScope},
		{"GET", l1 + "/templates?originId=" + e.L1, e.TokC1, nil, 401, sandbox.MsgAuthClass},
		{"GET", l1 + "/templates?originId=" + e.L1, e.TokL1Read, nil, 401, sandbox.MsgScope},
		{"DELETE", "/locations/" + e.L1 + "/templates/x", e.TokL2, nil, 403, sandbox.MsgLocation},
	})
	// The refused requests changed nothing.
	if got := e.do("GET", l1+"/customValues/"+cv, e.TokL1, nil).mustStatus(t, 200).JSON(t)["customValue"].(map[string]any); got["value"] != "1" {
		t.Errorf("custom value after refused writes = %v", got)
	}
	e.do("GET", l1+"/tags/"+tag, e.TokL1, nil).mustStatus(t, 200)
}
