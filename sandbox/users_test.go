package sandbox_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox"
)

// newUserBody is a valid create-user body.
func newUserBody(company, first, email, typ, role string, locs ...string) map[string]any {
	if locs == nil {
		locs = []string{}
	}
	return map[string]any{"companyId": company, "firstName": first, "lastName": "Doe", "email": email, "password": "s3cret!",
		"phone": "+14155550100", "type": typ, "role": role, "locationIds": locs}
}

func TestCreateAndGetUser(t *testing.T) {
	e := newTestEnv(t)
	u := e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "Ann", "ann@x.com", "account", "user", e.L1)).mustStatus(t, 201).JSON(t)
	id, _ := u["id"].(string)
	roles, _ := u["roles"].(map[string]any)
	if len(id) != 20 || u["name"] != "Ann Doe" || u["email"] != "ann@x.com" || roles["type"] != "account" || roles["role"] != "user" ||
		fmt.Sprint(roles["locationIds"]) != fmt.Sprint([]any{e.L1}) || u["password"] != nil {
		t.Fatalf("created = %v", u)
	}
	if perms, _ := u["permissions"].(map[string]any); perms["contactsEnabled"] != true || perms["websitesEnabled"] != false {
		t.Errorf("default permissions = %v", u["permissions"])
	}
	// A location token creates account users of its own location.
	bob := e.do("POST", "/users/", e.TokL1, newUserBody(e.C1, "Bob", "bob@x.com", "account", "admin", e.L1)).mustStatus(t, 201).JSON(t)
	agency := e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "Ada", "ada@x.com", "agency", "admin")).mustStatus(t, 201).JSON(t)

	evs := outboxEvents(t, e, "UserCreate")
	if len(evs) != 3 || evs[0]["id"] != id || evs[0]["locationId"] != e.L1 || evs[0]["role"] != "user" || evs[0]["email"] != "ann@x.com" {
		t.Fatalf("UserCreate events = %v", evs)
	}
	if evs[2]["id"] != agency["id"] || evs[2]["companyId"] != e.C1 || evs[2]["locationId"] != nil {
		t.Errorf("agency UserCreate = %v", evs[2])
	}

	for _, tok := range []string{e.TokC1, e.TokL1} {
		got := e.do("GET", "/users/"+id, tok, nil).mustStatus(t, 200).JSON(t)
		if got["id"] != id || got["firstName"] != "Ann" || got["phone"] != "+14155550100" {
			t.Errorf("get = %v", got)
		}
	}
	// Users without access to the caller's location, and other agencies.
	wantError(t, e.do("GET", "/users/"+id, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", "/users/"+agency["id"].(string), e.TokL1, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", "/users/"+id, e.TokC2, nil), 403, "company")
	wantError(t, e.do("GET", "/users/"+id, e.TokL3, nil), 403, "")
	wantError(t, e.do("GET", "/users/"+sandbox.NewID(), e.TokC1, nil), 404, "User not found")
	wantError(t, e.do("GET", "/users/"+id, e.TokL1Read, nil), 401, sandbox.MsgScope)

	// Duplicates, validation, reach and malformed bodies.
	wantError(t, e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "Ann", "ANN@x.com", "account", "user", e.L2)), 400, "already exists")
	e.do("POST", "/users/", e.TokC2, newUserBody(e.C2, "Ann", "ann@x.com", "account", "user", e.L3)).mustStatus(t, 201)
	wantError(t, e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "X", "not-an-email", "account", "user", e.L1)), 422, "email must be an email")
	wantError(t, e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "X", "x1@x.com", "owner", "user", e.L1)), 422, "type must be one of")
	wantError(t, e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "X", "x2@x.com", "account", "boss", e.L1)), 422, "role must be one of")
	wantError(t, e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "X", "x3@x.com", "account", "user")), 422, "locationIds should not be empty")
	noPw := newUserBody(e.C1, "X", "x4@x.com", "account", "user", e.L1)
	delete(noPw, "password")
	wantError(t, e.do("POST", "/users/", e.TokC1, noPw), 422, "password should not be empty")
	wantError(t, e.do("POST", "/users/", e.TokC1, map[string]any{"companyId": e.C1}), 422, "firstName should not be empty")
	wantError(t, e.do("POST", "/users/", e.TokC1, `{"companyId":`), 400, "")
	wantError(t, e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "X", "x5@x.com", "account", "user", e.L3)), 403, sandbox.MsgLocation)
	wantError(t, e.do("POST", "/users/", e.TokL1, newUserBody(e.C1, "X", "x6@x.com", "account", "user", e.L1, e.L2)), 403, sandbox.MsgLocation)
	wantError(t, e.do("POST", "/users/", e.TokL1, newUserBody(e.C1, "X", "x7@x.com", "agency", "admin")), 403, "account")
	wantError(t, e.do("POST", "/users/", e.TokC2, newUserBody(e.C1, "X", "x8@x.com", "account", "user", e.L1)), 403, "company")
	wantError(t, e.do("POST", "/users/", e.TokL1Read, newUserBody(e.C1, "X", "x9@x.com", "account", "user", e.L1)), 401, sandbox.MsgScope)
	if n := len(outboxEvents(t, e, "UserCreate")); n != 4 {
		t.Errorf("%d UserCreate events after refused creates, want 4", n)
	}
	_ = bob
}

func TestUpdateAndDeleteUser(t *testing.T) {
	e := newTestEnv(t)
	u := e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "Ann", "ann@x.com", "account", "user", e.L1)).mustStatus(t, 201).JSON(t)
	id := u["id"].(string)

	upd := e.do("PUT", "/users/"+id, e.TokL1, map[string]any{"firstName": "Anna", "role": "admin", "email": "changed@x.com", "permissions": map[string]any{"contactsEnabled": false}}).mustStatus(t, 200).JSON(t)
	if upd["firstName"] != "Anna" || upd["name"] != "Anna Doe" || upd["roles"].(map[string]any)["role"] != "admin" || upd["email"] != "ann@x.com" {
		t.Errorf("update = %v", upd)
	}
	got := e.do("GET", "/users/"+id, e.TokC1, nil).mustStatus(t, 200).JSON(t)
	if got["firstName"] != "Anna" || got["permissions"].(map[string]any)["contactsEnabled"] != false {
		t.Errorf("read back = %v", got)
	}
	// The agency moves the user to L2: L1's token loses sight of it.
	e.do("PUT", "/users/"+id, e.TokC1, map[string]any{"locationIds": []string{e.L2}}).mustStatus(t, 200)
	wantError(t, e.do("GET", "/users/"+id, e.TokL1, nil), 403, sandbox.MsgLocation)
	e.do("GET", "/users/"+id, e.TokL2, nil).mustStatus(t, 200)

	wantError(t, e.do("PUT", "/users/"+id, e.TokC1, map[string]any{"role": "boss"}), 422, "role must be one of")
	wantError(t, e.do("PUT", "/users/"+id, e.TokC1, map[string]any{"firstName": 7}), 422, "firstName must be a string")
	wantError(t, e.do("PUT", "/users/"+id, e.TokC1, map[string]any{"locationIds": []string{}}), 422, "locationIds should not be empty")
	wantError(t, e.do("PUT", "/users/"+id, e.TokC1, map[string]any{"locationIds": []string{e.L3}}), 403, sandbox.MsgLocation)
	wantError(t, e.do("PUT", "/users/"+id, e.TokL2, map[string]any{"type": "agency"}), 403, "account")
	wantError(t, e.do("PUT", "/users/"+id, e.TokC1, `{"firstName"`), 400, "")
	wantError(t, e.do("PUT", "/users/"+id, e.TokL1, map[string]any{"firstName": "x"}), 403, sandbox.MsgLocation)
	wantError(t, e.do("PUT", "/users/"+id, e.TokC2, map[string]any{"firstName": "x"}), 403, "company")
	wantError(t, e.do("PUT", "/users/"+sandbox.NewID(), e.TokC1, map[string]any{"firstName": "x"}), 404, "User not found")
	if got := e.do("GET", "/users/"+id, e.TokC1, nil).mustStatus(t, 200).JSON(t); got["firstName"] != "Anna" {
		t.Errorf("refused updates changed the user: %v", got)
	}

	wantError(t, e.do("DELETE", "/users/"+id, e.TokL1, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("DELETE", "/users/"+id, e.TokC2, nil), 403, "company")
	del := e.do("DELETE", "/users/"+id, e.TokL2, nil).mustStatus(t, 200).JSON(t)
	if del["succeded"] != true || !strings.Contains(del["message"].(string), "ann@x.com") {
		t.Errorf("delete = %v", del)
	}
	wantError(t, e.do("GET", "/users/"+id, e.TokC1, nil), 404, "User not found")
	wantError(t, e.do("DELETE", "/users/"+id, e.TokC1, nil), 404, "User not found")
	// The email is free again.
	e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "Ann", "ann@x.com", "account", "user", e.L1)).mustStatus(t, 201)
}

func TestSearchUsers(t *testing.T) {
	e := newTestEnv(t)
	mk := func(first, email, typ, role string, locs ...string) string {
		return e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, first, email, typ, role, locs...)).mustStatus(t, 201).JSON(t)["id"].(string)
	}
	carl := mk("Carl", "carl@x.com", "account", "user", e.L1)
	ada := mk("Ada", "ada@x.com", "agency", "admin")
	bea := mk("Bea", "bea@acme.com", "account", "admin", e.L1, e.L2)
	dan := mk("Dan", "dan@x.com", "account", "user", e.L2)
	e.do("POST", "/users/", e.TokC2, newUserBody(e.C2, "Eve", "eve@x.com", "account", "user", e.L3)).mustStatus(t, 201)

	search := func(tok, q string) (string, float64) {
		t.Helper()
		m := e.do("GET", "/users/search?"+q, tok, nil).mustStatus(t, 200).JSON(t)
		var ids []string
		for _, u := range m["users"].([]any) {
			ids = append(ids, u.(map[string]any)["id"].(string))
		}
		return strings.Join(ids, ","), m["count"].(float64)
	}
	join := func(ids ...string) string { return strings.Join(ids, ",") }
	c := "companyId=" + e.C1
	for _, tc := range []struct {
		tok, q, want string
		count        float64
	}{
		{e.TokC1, c, join(carl, ada, bea, dan), 4},
		{e.TokC1, c + "&locationId=" + e.L1, join(carl, bea), 2},
		{e.TokC1, c + "&role=admin", join(ada, bea), 2},
		{e.TokC1, c + "&type=agency", join(ada), 1},
		{e.TokC1, c + "&query=ACME", join(bea), 1},
		{e.TokC1, c + "&query=dan", join(dan), 1},
		{e.TokC1, c + "&ids=" + ada + "," + dan, join(ada, dan), 2},
		{e.TokC1, c + "&sort=firstName", join(ada, bea, carl, dan), 4},
		{e.TokC1, c + "&sort=firstName&sortDirection=desc", join(dan, carl, bea, ada), 4},
		{e.TokC1, c + "&sort=firstName&skip=1&limit=2", join(bea, carl), 4},
		{e.TokL1, c, join(carl, bea), 2}, // a location token sees its location's users
		{e.TokL2, c + "&sort=email", join(bea, dan), 2},
	} {
		if got, n := search(tc.tok, tc.q); got != tc.want || n != tc.count {
			t.Errorf("search %s = %s (%v), want %s (%v)", tc.q, got, n, tc.want, tc.count)
		}
	}
	wantError(t, e.do("GET", "/users/search", e.TokC1, nil), 422, "companyId should not be empty")
	wantError(t, e.do("GET", "/users/search?"+c+"&role=boss", e.TokC1, nil), 422, "role must be one of")
	wantError(t, e.do("GET", "/users/search?"+c+"&sort=shoeSize", e.TokC1, nil), 422, "sort must be one of")
	wantError(t, e.do("GET", "/users/search?"+c+"&limit=-1", e.TokC1, nil), 422, "limit must be a number string")
	wantError(t, e.do("GET", "/users/search?"+c, e.TokC2, nil), 403, "company")
	wantError(t, e.do("GET", "/users/search?"+c+"&locationId="+e.L2, e.TokL1, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", "/users/search?"+c, e.TokL1Read, nil), 401, sandbox.MsgScope)

	// The deprecated list by location (location tokens only).
	list := e.do("GET", "/users/?locationId="+e.L2, e.TokL2, nil).mustStatus(t, 200).JSON(t)["users"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["id"] != bea || list[1].(map[string]any)["id"] != dan {
		t.Errorf("users of L2 = %v", list)
	}
	wantError(t, e.do("GET", "/users/", e.TokL2, nil), 422, "locationId should not be empty")
	wantError(t, e.do("GET", "/users/?locationId="+e.L1, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", "/users/?locationId="+e.L1, e.TokC1, nil), 401, sandbox.MsgAuthClass)
}

func TestFilterUsersByEmail(t *testing.T) {
	e := newTestEnv(t)
	ann := e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "Ann", "ann@x.com", "account", "user", e.L1)).mustStatus(t, 201).JSON(t)["id"].(string)
	bob := e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "Bob", "bob@x.com", "account", "user", e.L2)).mustStatus(t, 201).JSON(t)["id"].(string)
	e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "Cy", "cy@x.com", "account", "user", e.L2)).mustStatus(t, 201)
	e.do("POST", "/users/", e.TokC2, newUserBody(e.C2, "Ann", "ann@x.com", "account", "user", e.L3)).mustStatus(t, 201)

	path := "/users/search/filter-by-email"
	m := e.do("POST", path, e.TokC1, map[string]any{"companyId": e.C1, "emails": "ANN@x.com, bob@x.com,nobody@x.com"}).mustStatus(t, 200).JSON(t)
	users := m["users"].([]any)
	if m["count"] != float64(2) || len(users) != 2 {
		t.Fatalf("filter = %v", m)
	}
	first := users[0].(map[string]any)
	if first["id"] != ann || first["email"] != "ann@x.com" || len(first) != 2 {
		t.Errorf("default projection = %v, want id and email only", first)
	}
	all := e.do("POST", path, e.TokC1, map[string]any{"companyId": e.C1, "emails": "bob@x.com", "projection": "all"}).mustStatus(t, 200).JSON(t)["users"].([]any)[0].(map[string]any)
	if all["id"] != bob || all["firstName"] != "Bob" || all["roles"] == nil {
		t.Errorf("projection all = %v", all)
	}
	some := e.do("POST", path, e.TokC1, map[string]any{"companyId": e.C1, "emails": "bob@x.com", "projection": "firstName"}).mustStatus(t, 200).JSON(t)["users"].([]any)[0].(map[string]any)
	if some["firstName"] != "Bob" || some["lastName"] != nil {
		t.Errorf("projection firstName = %v", some)
	}
	paged := e.do("POST", path, e.TokC1, map[string]any{"companyId": e.C1, "emails": "ann@x.com,bob@x.com,cy@x.com", "skip": "1", "limit": "1"}).mustStatus(t, 200).JSON(t)
	if paged["count"] != float64(3) || len(paged["users"].([]any)) != 1 || paged["users"].([]any)[0].(map[string]any)["id"] != bob {
		t.Errorf("paged = %v", paged)
	}
	// Deleted users appear only when asked for.
	e.do("DELETE", "/users/"+bob, e.TokC1, nil).mustStatus(t, 200)
	if n := e.do("POST", path, e.TokC1, map[string]any{"companyId": e.C1, "emails": "bob@x.com"}).mustStatus(t, 200).JSON(t)["count"]; n != float64(0) {
		t.Errorf("deleted user listed: count %v", n)
	}
	del := e.do("POST", path, e.TokC1, map[string]any{"companyId": e.C1, "emails": "bob@x.com", "deleted": true}).mustStatus(t, 200).JSON(t)["users"].([]any)
	if len(del) != 1 || del[0].(map[string]any)["id"] != bob {
		t.Errorf("deleted:true = %v", del)
	}

	wantError(t, e.do("POST", path, e.TokC1, map[string]any{"companyId": e.C1}), 422, "emails should not be empty")
	wantError(t, e.do("POST", path, e.TokC1, map[string]any{"emails": "a@x.com"}), 422, "companyId should not be empty")
	wantError(t, e.do("POST", path, e.TokC1, map[string]any{"companyId": e.C1, "emails": "a@x.com", "limit": "many"}), 422, "number strings")
	wantError(t, e.do("POST", path, e.TokC1, `{"companyId":`), 400, "")
	wantError(t, e.do("POST", path, e.TokC2, map[string]any{"companyId": e.C1, "emails": "ann@x.com"}), 403, "company")
	wantError(t, e.do("POST", path, e.TokL1, map[string]any{"companyId": e.C1, "emails": "ann@x.com"}), 401, sandbox.MsgAuthClass)
}

func TestUserRoutesRefuse(t *testing.T) {
	e := newTestEnv(t)
	id := e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "Ann", "ann@x.com", "account", "user", e.L1)).mustStatus(t, 201).JSON(t)["id"].(string)
	agencyRead := issueToken(t, e, e.C1, "", "users.readonly")
	agencyNone := issueToken(t, e, e.C1, "", "contacts.readonly")
	runAuthCases(t, e, []authCase{
		{"PUT", "/users/" + id, e.TokL1Read, map[string]any{"firstName": "x"}, 401, sandbox.MsgScope},
		{"PUT", "/users/" + id, agencyRead, map[string]any{"firstName": "x"}, 401, sandbox.MsgScope},
		{"DELETE", "/users/" + id, e.TokL1Read, nil, 401, sandbox.MsgScope},
		{"DELETE", "/users/" + id, agencyRead, nil, 401, sandbox.MsgScope},
		{"POST", "/users/", agencyRead, newUserBody(e.C1, "X", "x@x.com", "account", "user", e.L1), 401, sandbox.MsgScope},
		{"GET", "/users/" + id, agencyNone, nil, 401, sandbox.MsgScope},
		{"GET", "/users/search?companyId=" + e.C1, agencyNone, nil, 401, sandbox.MsgScope},
		{"POST", "/users/search/filter-by-email", agencyNone, map[string]any{"companyId": e.C1, "emails": "ann@x.com"}, 401, sandbox.MsgScope},
		{"GET", "/users/?locationId=" + e.L1, e.TokL1Read, nil, 401, sandbox.MsgScope},
		{"DELETE", "/users/" + id, e.TokL3, nil, 403, ""},
	})
	if got := e.do("GET", "/users/"+id, e.TokC1, nil).mustStatus(t, 200).JSON(t); got["firstName"] != "Ann" || got["deleted"] != false {
		t.Errorf("user after refused writes = %v", got)
	}
}
