package sandbox_test

import (
	"context"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/spec"
)

// isolationFixture holds objects of location L1 (company C1) that other
// tenants' tokens must not reach.
type isolationFixture struct {
	ids map[string]string
}

func mustID(t *testing.T, m map[string]any, path ...string) string {
	t.Helper()
	var cur any = m
	for _, p := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("no %v in %v", path, m)
		}
		cur = obj[p]
	}
	s, ok := cur.(string)
	if !ok || s == "" {
		t.Fatalf("no string at %v in %v", path, m)
	}
	return s
}

func newIsolationFixture(t *testing.T, e *testEnv) *isolationFixture {
	t.Helper()
	fx := &isolationFixture{ids: map[string]string{}}
	c := e.do("POST", "/contacts/", e.TokL1, map[string]any{"locationId": e.L1, "firstName": "Iso", "email": "iso@example.com", "tags": []string{"iso"}}).mustStatus(t, 201).JSON(t)
	fx.ids["contactId"] = mustID(t, c, "contact", "id")
	cid := fx.ids["contactId"]
	fx.ids["noteId"] = mustID(t, e.do("POST", "/contacts/"+cid+"/notes", e.TokL1, map[string]any{"body": "n"}).mustStatus(t, 201).JSON(t), "note", "id")
	fx.ids["taskId"] = mustID(t, e.do("POST", "/contacts/"+cid+"/tasks", e.TokL1, map[string]any{"title": "t", "dueDate": "2030-01-01T00:00:00Z", "completed": false}).mustStatus(t, 201).JSON(t), "task", "id")
	fx.ids["tagId"] = mustID(t, e.do("POST", "/locations/"+e.L1+"/tags", e.TokL1, map[string]any{"name": "iso-tag"}).JSON(t), "tag", "id")
	fx.ids["customFieldId"] = mustID(t, e.do("POST", "/locations/"+e.L1+"/customFields", e.TokL1, map[string]any{"name": "Iso Field", "dataType": "TEXT"}).mustStatus(t, 201).JSON(t), "customField", "id")
	fx.ids["customValueId"] = mustID(t, e.do("POST", "/locations/"+e.L1+"/customValues", e.TokL1, map[string]any{"name": "Iso Value", "value": "v"}).mustStatus(t, 201).JSON(t), "customValue", "id")
	fx.ids["recurringTaskId"] = mustID(t, e.do("POST", "/locations/"+e.L1+"/recurring-tasks", e.TokL1, isoRecurringTask).mustStatus(t, 201).JSON(t), "recurringTask", "id")
	fx.ids["folderId"] = mustID(t, e.do("POST", "/custom-fields/folder", e.TokL1, map[string]any{"objectKey": "contact", "name": "Iso Folder", "locationId": e.L1}).mustStatus(t, 201).JSON(t), "id")
	u := e.do("POST", "/users/", e.TokC1, map[string]any{"companyId": e.C1, "firstName": "Iso", "lastName": "User", "email": "iso.user@example.com", "password": "Secret-123456",
		"type": "account", "role": "user", "locationIds": []string{e.L1}, "permissions": map[string]any{}}).mustStatus(t, 201).JSON(t)
	fx.ids["userId"] = mustID(t, u, "id")
	// Campaigns and workflows have no create API: put them in the store.
	ctx := context.Background()
	fx.ids["campaignId"], fx.ids["workflowId"] = sandbox.NewID(), sandbox.NewID()
	err := e.Store.Write(ctx, func(tx sandbox.Tx) error {
		if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindCampaign, ID: fx.ids["campaignId"], LocationID: e.L1, CompanyID: e.C1},
			map[string]any{"id": fx.ids["campaignId"], "name": "Iso", "status": "published", "locationId": e.L1}); err != nil {
			return err
		}
		return sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindWorkflow, ID: fx.ids["workflowId"], LocationID: e.L1, CompanyID: e.C1},
			map[string]any{"id": fx.ids["workflowId"], "name": "Iso", "status": "published", "locationId": e.L1})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nor do calendars yet (the path parameter calendarId maps to it).
	cal := &sandbox.Calendar{Name: "Iso", LocationID: e.L1, IsActive: true}
	putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error { return sandbox.PutCalendar(ctx, tx, e.C1, cal) })
	fx.ids["calendarId"] = cal.ID
	return fx
}

// pathFor fills an operation's path parameters with L1's objects.
func (fx *isolationFixture) pathFor(e *testEnv, op *spec.Operation) string {
	segs := strings.Split(op.Path, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			continue
		}
		name := strings.Trim(s, "{}")
		var v string
		switch name {
		case "locationId":
			v = e.L1
		case "companyId":
			v = e.C1
		case "id":
			switch {
			case strings.Contains(op.Path, "/notes/"):
				v = fx.ids["noteId"]
			case strings.Contains(op.Path, "/customValues/"):
				v = fx.ids["customValueId"]
			case strings.Contains(op.Path, "/custom-fields/folder/"):
				v = fx.ids["folderId"]
			case strings.Contains(op.Path, "/recurring-tasks/"):
				v = fx.ids["recurringTaskId"]
			default:
				v = fx.ids["customFieldId"]
			}
		case "type":
			v = "add"
		case "objectKey":
			v = "contact"
		case "businessId":
			v = "iso-business"
		default:
			v = fx.ids[name]
			if v == "" {
				v = sandbox.NewID()
			}
		}
		segs[i] = url.PathEscape(v)
	}
	return strings.Join(segs, "/")
}

// queryFor fills required query parameters (and the location id wherever
// the operation takes one) with L1's values.
func queryFor(e *testEnv, op *spec.Operation) string {
	q := url.Values{}
	for _, p := range op.Params {
		if p.In != "query" {
			continue
		}
		switch p.Name {
		case "locationId", "location_id":
			q.Set(p.Name, e.L1)
		case "companyId":
			q.Set(p.Name, e.C1)
		default:
			if p.Required {
				switch p.Type {
				case "boolean":
					q.Set(p.Name, "false")
				case "number", "integer":
					q.Set(p.Name, "1")
				default:
					q.Set(p.Name, "x")
				}
			}
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// bodyFor returns a request body naming L1 where the operation takes one.
func (fx *isolationFixture) bodyFor(e *testEnv, op *spec.Operation) any {
	if op.Method == "GET" {
		return nil
	}
	b := map[string]any{"locationId": e.L1}
	switch op.ID {
	case "create-location", "search-locations", "filter-users-by-email", "create-user":
		b = map[string]any{"companyId": e.C1, "name": "X", "firstName": "X", "lastName": "Y", "email": "x@example.com", "emails": []string{"iso.user@example.com"},
			"password": "Secret-123456", "type": "account", "role": "user", "locationIds": []string{e.L1}, "permissions": map[string]any{}}
	case "create-association", "add-remove-contact-from-business":
		b["ids"] = []string{fx.ids["contactId"]}
		b["contacts"] = []string{fx.ids["contactId"]}
		b["tags"] = []string{"x"}
		b["businessId"] = "iso-business"
	case "add-tags", "remove-tags":
		b = map[string]any{"tags": []string{"x"}}
	case "create-note", "update-note":
		b = map[string]any{"body": "x"}
	case "create-task", "update-task":
		b = map[string]any{"title": "x", "dueDate": "2030-01-01T00:00:00Z", "completed": false}
	case "update-task-completed":
		b = map[string]any{"completed": true}
	case "add-followers-contact", "remove-followers-contact":
		b = map[string]any{"followers": []string{fx.ids["userId"]}}
	case "update-contact":
		b = map[string]any{"firstName": "Mallory"}
	case "create-contact", "upsert-contact":
		b["firstName"] = "Mallory"
		b["email"] = "mallory@example.com"
	case "update-user":
		b = map[string]any{"firstName": "Mallory"}
	case "create-recurring-task", "update-recurring-task":
		b = isoRecurringTask
	}
	return b
}

// isoRecurringTask is a valid recurring-task body.
var isoRecurringTask = map[string]any{"title": "Iso", "rruleOptions": map[string]any{"intervalType": "daily", "interval": 1, "startDate": "2030-01-01T00:00:00Z", "dueAfterSeconds": 60}}

// TestEveryRouteIsolatesTenants sends, on every implemented and secured
// operation, a request that names L1's data with another tenant's token:
// a location token of L2 (same company) where the operation takes location
// tokens, an agency token of C2 where it takes agency tokens only. Each must
// be refused with 403 and GHL's message, and nothing may change.
func TestEveryRouteIsolatesTenants(t *testing.T) {
	e := newTestEnv(t)
	fx := newIsolationFixture(t, e)
	ctx := context.Background()
	// OAuth-only operations need OAuth access tokens.
	var oauthL2, oauthC2 string
	err := e.Store.Write(ctx, func(tx sandbox.Tx) error {
		var err error
		oauthL2, err = sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: sandbox.TokenAccess, UserType: sandbox.UserTypeLocation, CompanyID: e.C1, LocationID: e.L2, AppID: "isoapp", Scopes: sandbox.AllScopes(), ExpiresAt: sandbox.Time{Time: time.Now().Add(time.Hour)}}, time.Now())
		if err != nil {
			return err
		}
		oauthC2, err = sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: sandbox.TokenAccess, UserType: sandbox.UserTypeCompany, CompanyID: e.C2, AppID: "isoapp", Scopes: sandbox.AllScopes(), ExpiresAt: sandbox.Time{Time: time.Now().Add(time.Hour)}}, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	before := snapshotContact(t, e, fx.ids["contactId"])

	var checked []string
	for _, op := range spec.MustOperations() {
		if !op.Secured || !e.Server.Implemented(op.Namespace, op.ID) {
			continue
		}
		classes := map[spec.TokenClass]bool{}
		for _, s := range op.Security {
			classes[s.Class] = true
		}
		var tok string
		switch {
		case classes[spec.Location]:
			tok = e.TokL2
		case classes[spec.LocationOAuthOnly]:
			tok = oauthL2
		case classes[spec.Agency]:
			tok = e.TokC2
		case classes[spec.AgencyOAuthOnly]:
			tok = oauthC2
		}
		path := fx.pathFor(e, op) + queryFor(e, op)
		var res *response
		if len(op.BodyTypes) > 0 && op.BodyTypes[0] == "application/x-www-form-urlencoded" {
			form := url.Values{"companyId": {e.C1}, "locationId": {e.L1}}
			res = e.doH(op.Method, path, tok, form.Encode(), map[string]string{"Version": "2021-07-28", "Content-Type": "application/x-www-form-urlencoded"})
		} else {
			res = e.do(op.Method, path, tok, fx.bodyFor(e, op))
		}
		name := op.Method + " " + op.Path + " (" + op.ID + ")"
		checked = append(checked, name)
		if listsOwnOnly[op.ID] && res.Status == 200 {
			// A search answers with what the caller may see: nothing of L1.
			for _, id := range append([]string{e.L1}, fx.values()...) {
				if strings.Contains(string(res.Body), id) {
					t.Errorf("%s leaked %s: %s", name, id, res.Body)
				}
			}
			continue
		}
		if res.Status != 403 {
			t.Errorf("%s with another tenant's token: status %d, want 403; body %s", name, res.Status, res.Body)
			continue
		}
		var m map[string]any
		_ = json.Unmarshal(res.Body, &m)
		if msg, _ := m["message"].(string); !strings.Contains(msg, "does not have access") {
			t.Errorf("%s: 403 message %q", name, msg)
		}
	}
	sort.Strings(checked)
	if len(checked) < 40 {
		t.Errorf("only %d operations checked: %v", len(checked), checked)
	}
	t.Logf("%d operations checked", len(checked))
	if after := snapshotContact(t, e, fx.ids["contactId"]); after != before {
		t.Errorf("contact changed by refused requests:\nbefore %s\nafter  %s", before, after)
	}
}

// listsOwnOnly are searches that answer a foreign tenant with its own data
// rather than 403.
var listsOwnOnly = map[string]bool{"search-locations": true}

func (fx *isolationFixture) values() []string {
	out := make([]string, 0, len(fx.ids))
	for _, v := range fx.ids {
		out = append(out, v)
	}
	return out
}

// TestEveryRouteEnforcesScopes calls every implemented secured operation
// with a token of the right class and no scopes: each operation that names
// a scope must answer 401 with GHL's scope message. (The operations whose
// spec names no scope are skipped here; TestScopedNamespacesNameScopes
// keeps the core namespaces free of them.)
func TestEveryRouteEnforcesScopes(t *testing.T) {
	e := newTestEnv(t)
	fx := newIsolationFixture(t, e)
	ctx := context.Background()
	tokens := map[string]string{}
	err := e.Store.Write(ctx, func(tx sandbox.Tx) error {
		for _, spec := range []struct {
			key, typ, userType, loc string
		}{{"L", sandbox.TokenPIT, sandbox.UserTypeLocation, e.L1}, {"LO", sandbox.TokenAccess, sandbox.UserTypeLocation, e.L1},
			{"A", sandbox.TokenPIT, sandbox.UserTypeCompany, ""}, {"AO", sandbox.TokenAccess, sandbox.UserTypeCompany, ""}} {
			tok, err := sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: spec.typ, UserType: spec.userType, CompanyID: e.C1, LocationID: spec.loc, AppID: "scopeapp",
				Scopes: []string{}, ExpiresAt: sandbox.Time{Time: time.Now().Add(time.Hour)}}, time.Now())
			if err != nil {
				return err
			}
			tokens[spec.key] = tok
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, op := range spec.MustOperations() {
		if !op.Secured || !e.Server.Implemented(op.Namespace, op.ID) || len(op.Scopes()) == 0 {
			continue
		}
		var tok string
		switch op.Security[0].Class {
		case spec.Location:
			tok = tokens["L"]
		case spec.LocationOAuthOnly:
			tok = tokens["LO"]
		case spec.Agency:
			tok = tokens["A"]
		case spec.AgencyOAuthOnly:
			tok = tokens["AO"]
		}
		res := e.do(op.Method, fx.pathFor(e, op)+queryFor(e, op), tok, fx.bodyFor(e, op))
		n++
		var m map[string]any
		_ = json.Unmarshal(res.Body, &m)
		if res.Status != 401 || m["message"] != sandbox.MsgScope {
			t.Errorf("%s %s without scopes: %d %s", op.Method, op.Path, res.Status, res.Body)
		}
	}
	if n < 40 {
		t.Errorf("only %d operations checked", n)
	}
	t.Logf("%d operations checked", n)
}

func snapshotContact(t *testing.T, e *testEnv, id string) string {
	t.Helper()
	res := e.do("GET", "/contacts/"+id, e.TokL1, nil).mustStatus(t, 200)
	var m map[string]any
	_ = json.Unmarshal(res.Body, &m)
	c, _ := m["contact"].(map[string]any)
	delete(c, "dateUpdated")
	b, _ := json.Marshal(c)
	return string(b)
}
