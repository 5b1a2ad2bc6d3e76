package sandbox_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox"
)

// TestAdminApps covers the apps admin API: creation with generated and
// fixed credentials, validation, listing without secrets, lookup by app
// id or client id, and deletion.
func TestAdminApps(t *testing.T) {
	e := newTestEnv(t)
	created := e.do("POST", "/_ghlkit/apps", "", map[string]any{"name": " Order Sync ", "redirectUris": []string{"https://shop.example.com/ghl/cb", "http://localhost:3000/ghl/cb"},
		"scopes": []string{"contacts.write", "contacts.readonly", "contacts.write"}, "distributionType": "Both", "webhookUrl": "https://shop.example.com/ghl/hooks", "companyId": e.C1}).mustStatus(t, 201)
	m := created.JSON(t)
	app := m["app"].(map[string]any)
	secret := jsonStr(m, "clientSecret")
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(secret) {
		t.Errorf("client secret %q is not UUID-shaped", secret)
	}
	id, clientID := jsonStr(app, "id"), jsonStr(app, "clientId")
	if !regexp.MustCompile(`^[0-9a-f]{24}-[0-9a-z]{8}$`).MatchString(clientID) || clientID[:24] != id {
		t.Errorf("id %q clientId %q", id, clientID)
	}
	if app["name"] != "Order Sync" || app["distributionType"] != "Both" || app["companyId"] != e.C1 || app["installs"] != float64(0) ||
		!slices.Equal(anyStrings(app["scopes"]), []string{"contacts.write", "contacts.readonly"}) {
		t.Errorf("created app %v", app)
	}
	if strings.Contains(string(created.Body), "clientSecretHash") || strings.Contains(string(created.Body), sandbox.HashSecret(secret)) {
		t.Errorf("the secret's hash is shown: %s", created.Body)
	}

	list := e.do("GET", "/_ghlkit/apps", "", nil).mustStatus(t, 200)
	if lm := list.JSON(t); lm["count"] != float64(1) || strings.Contains(string(list.Body), secret) || strings.Contains(string(list.Body), "clientSecretHash") {
		t.Errorf("list %s", list.Body)
	}
	for _, ref := range []string{id, clientID} {
		if got := e.do("GET", "/_ghlkit/apps/"+ref, "", nil).mustStatus(t, 200).JSON(t)["app"].(map[string]any); got["clientId"] != clientID {
			t.Errorf("GET by %s: %v", ref, got)
		}
	}
	wantError(t, e.do("GET", "/_ghlkit/apps/"+sandbox.NewID(), "", nil), 404, "App not found")

	// Fixed credentials are honoured, and a taken client id is refused.
	fixed := e.do("POST", "/_ghlkit/apps", "", map[string]any{"name": "Fixed", "redirectUris": []string{"http://localhost:3000/cb"},
		"clientId": "aaaaaaaaaaaaaaaaaaaaaaaa-devapp01", "clientSecret": "dev-secret"}).mustStatus(t, 201).JSON(t)
	if a := fixed["app"].(map[string]any); a["id"] != "aaaaaaaaaaaaaaaaaaaaaaaa" || fixed["clientSecret"] != "dev-secret" || a["distributionType"] != "Sub-Account" ||
		len(anyStrings(a["scopes"])) != len(sandbox.AllScopes()) {
		t.Errorf("fixed app %v", fixed)
	}
	wantError(t, e.do("POST", "/_ghlkit/apps", "", map[string]any{"name": "Again", "redirectUris": []string{"http://localhost:3000/cb"},
		"clientId": "aaaaaaaaaaaaaaaaaaaaaaaa-devapp01"}), 400, "exists already")

	for _, tc := range []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"redirectUris": []string{"https://x.example.com/cb"}}, "name should not be empty"},
		{map[string]any{"name": "X"}, "redirectUris must contain at least one URI"},
		{map[string]any{"name": "X", "redirectUris": []string{"/relative"}}, "must be an absolute URI"},
		{map[string]any{"name": "X", "redirectUris": []string{"https://x.example.com/cb#frag"}}, "must not contain a fragment"},
		{map[string]any{"name": "X", "redirectUris": []string{"https://x.example.com/cb"}, "scopes": []string{"contacts.everything"}}, `unknown scope "contacts.everything"`},
		{map[string]any{"name": "X", "redirectUris": []string{"https://x.example.com/cb"}, "distributionType": "Galaxy"}, "distributionType must be one of"},
		{map[string]any{"name": "X", "redirectUris": []string{"https://x.example.com/cb"}, "webhookUrl": "ftp://x"}, "webhookUrl must be an absolute http(s) URL"},
		{map[string]any{"name": "X", "redirectUris": []string{"https://x.example.com/cb"}, "companyId": sandbox.NewID()}, "does not exist"},
		{map[string]any{"name": "X", "redirectUris": "https://x.example.com/cb"}, "redirectUris must be an array"},
		{map[string]any{"name": "X", "redirectUris": []string{"https://x.example.com/cb"}, "clientId": "-abc"}, "clientId must be an app id"},
		{map[string]any{"name": "X", "redirectUris": []string{"https://x.example.com/cb"}, "clientId": "a b"}, "clientId must be an app id"},
	} {
		wantError(t, e.do("POST", "/_ghlkit/apps", "", tc.body), 422, tc.msg)
	}
	wantError(t, e.do("POST", "/_ghlkit/apps", "", `{"name":`), 400, "")
	if n := e.do("GET", "/_ghlkit/apps", "", nil).mustStatus(t, 200).JSON(t)["count"]; n != float64(2) {
		t.Errorf("%v apps after refused creations, want 2", n)
	}

	// Deleting an installed app uninstalls it and revokes its tokens.
	oa := oauthApp{ID: id, ClientID: clientID, Secret: secret, Redirect: "https://shop.example.com/ghl/cb"}
	tok := exchangeCode(e, oa, approveConsent(t, e, oa, "contacts.readonly", "location:"+e.L1), "").mustStatus(t, 200).JSON(t)
	e.do("GET", "/contacts/?locationId="+e.L1, jsonStr(tok, "access_token"), nil).mustStatus(t, 200)
	if a := e.do("GET", "/_ghlkit/apps/"+id, "", nil).mustStatus(t, 200).JSON(t)["app"].(map[string]any); a["installs"] != float64(1) {
		t.Errorf("installs = %v", a["installs"])
	}
	del := e.do("DELETE", "/_ghlkit/apps/"+clientID, "", nil).mustStatus(t, 200).JSON(t)
	if del["succeded"] != true || del["id"] != id || del["revokedTokens"] != float64(2) {
		t.Errorf("delete answered %v", del)
	}
	wantError(t, e.do("GET", "/contacts/?locationId="+e.L1, jsonStr(tok, "access_token"), nil), 401, sandbox.MsgInvalidToken)
	wantError(t, e.do("GET", "/_ghlkit/apps/"+id, "", nil), 404, "App not found")
	wantOAuthError(t, refreshOAuth(e, oa, jsonStr(tok, "refresh_token")), 401, "invalid_client", "")
	if ev := outboxEvents(t, e, "AppUninstall"); len(ev) != 1 || ev[0]["appId"] != id || ev[0]["locationId"] != e.L1 {
		t.Errorf("AppUninstall %v", ev)
	}
	wantError(t, e.do("DELETE", "/_ghlkit/apps/"+id, "", nil), 404, "App not found")
}

// TestCreateApp is the Go API the CLI uses: the secret is returned once
// and only its hash is stored.
func TestCreateApp(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	app, secret, err := sandbox.CreateApp(ctx, e.Store, sandbox.AppParams{Name: "CLI App", RedirectURIs: []string{"http://127.0.0.1:9999/cb"}, Scopes: []string{"contacts.readonly"}})
	if err != nil {
		t.Fatal(err)
	}
	if app.ClientSecretHash != sandbox.HashSecret(secret) || !app.HasRedirectURI("http://127.0.0.1:9999/cb") || app.HasRedirectURI("http://127.0.0.1:9999/cb/") ||
		!app.HasScope("contacts.readonly") || app.HasScope("contacts.write") || app.AllowsAgency() {
		t.Errorf("app %+v", app)
	}
	err = e.Store.Read(ctx, func(tx sandbox.Tx) error {
		rec, err := tx.GetRecord(ctx, sandbox.KindApp, app.ID)
		if err != nil {
			return err
		}
		if rec.Key != app.ClientID || strings.Contains(string(rec.Data), secret) {
			t.Errorf("record key %q data %s", rec.Key, rec.Data)
		}
		got, err := sandbox.GetApp(ctx, tx, app.ClientID)
		if err != nil || got.ID != app.ID {
			t.Errorf("GetApp by client id: %v %v", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = sandbox.CreateApp(ctx, e.Store, sandbox.AppParams{Name: "No URIs"})
	var se *sandbox.Error
	if !errors.As(err, &se) || se.Code != sandbox.EUNPROCESSABLE || !strings.Contains(se.Message, "redirectUris") {
		t.Errorf("CreateApp without redirect URIs: %v", err)
	}
}

// TestAdminTokens covers Private Integration Tokens through the admin API
// and CreatePrivateToken: minting, listing without secrets, revocation that
// takes effect at once.
func TestAdminTokens(t *testing.T) {
	e := newTestEnv(t)
	res := e.do("POST", "/_ghlkit/tokens", "", map[string]any{"locationId": e.L1, "scopes": []string{"contacts.readonly"}, "name": "ci"}).mustStatus(t, 201)
	m := res.JSON(t)
	secret, id := jsonStr(m, "token"), jsonStr(m, "id")
	if !regexp.MustCompile(`^pit-[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$`).MatchString(secret) {
		t.Errorf("PIT %q", secret)
	}
	for k, v := range map[string]any{"type": "pit", "userType": "Location", "locationId": e.L1, "companyId": e.C1, "name": "ci", "status": "active"} {
		if m[k] != v {
			t.Errorf("created token %s = %v, want %v", k, m[k], v)
		}
	}
	if strings.Contains(string(res.Body), sandbox.HashSecret(secret)) {
		t.Errorf("the token's hash is shown: %s", res.Body)
	}
	e.do("GET", "/contacts/?locationId="+e.L1, secret, nil).mustStatus(t, 200)
	wantError(t, e.do("POST", "/contacts/", secret, map[string]any{"locationId": e.L1, "firstName": "X"}), 401, sandbox.MsgScope)

	list := e.do("GET", "/_ghlkit/tokens?locationId="+e.L1+"&type=pit", "", nil).mustStatus(t, 200)
	lm := list.JSON(t)
	if lm["count"] != float64(3) { // TokL1, TokL1Read and this one
		t.Errorf("tokens of L1: %v", lm)
	}
	if strings.Contains(string(list.Body), secret) || strings.Contains(string(list.Body), sandbox.HashSecret(secret)) || strings.Contains(string(list.Body), `"hash"`) {
		t.Errorf("the list shows secrets: %s", list.Body)
	}

	// Revocation is immediate, even for a token in the auth cache.
	e.do("DELETE", "/_ghlkit/tokens/"+id, "", nil).mustStatus(t, 200)
	wantError(t, e.do("GET", "/contacts/?locationId="+e.L1, secret, nil), 401, sandbox.MsgInvalidToken)
	e.do("DELETE", "/_ghlkit/tokens/"+id, "", nil).mustStatus(t, 200)
	wantError(t, e.do("DELETE", "/_ghlkit/tokens/"+sandbox.NewID(), "", nil), 404, "Token not found")
	revoked := e.do("GET", "/_ghlkit/tokens?locationId="+e.L1+"&status=revoked", "", nil).mustStatus(t, 200).JSON(t)
	if toks := revoked["tokens"].([]any); len(toks) != 1 || toks[0].(map[string]any)["id"] != id {
		t.Errorf("revoked tokens %v", revoked)
	}
	if active := e.do("GET", "/_ghlkit/tokens?locationId="+e.L1+"&status=active", "", nil).mustStatus(t, 200).JSON(t); active["count"] != float64(2) {
		t.Errorf("active tokens %v", active)
	}
	if page := e.do("GET", "/_ghlkit/tokens?limit=2&skip=1", "", nil).mustStatus(t, 200).JSON(t); len(page["tokens"].([]any)) != 2 || page["count"] != float64(7) {
		t.Errorf("paged tokens %v", page)
	}
	wantError(t, e.do("GET", "/_ghlkit/tokens?type=jwt", "", nil), 422, "type must be one of")
	wantError(t, e.do("GET", "/_ghlkit/tokens?limit=-1", "", nil), 422, "limit must be a non-negative integer")

	// An agency PIT gets every scope by default.
	agency := e.do("POST", "/_ghlkit/tokens", "", map[string]any{"companyId": e.C1}).mustStatus(t, 201).JSON(t)
	if agency["userType"] != "Company" || len(anyStrings(agency["scopes"])) != len(sandbox.AllScopes()) || agency["name"] != "Private Integration" {
		t.Errorf("agency token %v", agency)
	}
	e.do("GET", "/companies/"+e.C1, jsonStr(agency, "token"), nil).mustStatus(t, 200)

	for _, tc := range []struct {
		body any
		msg  string
	}{
		{map[string]any{}, "locationId or companyId is required"},
		{map[string]any{"locationId": e.L1, "scopes": []string{"contacts.readonly", "nope.write"}}, `unknown scope "nope.write"`},
		{map[string]any{"locationId": sandbox.NewID()}, "does not exist"},
		{map[string]any{"companyId": sandbox.NewID()}, "does not exist"},
		{map[string]any{"locationId": e.L3, "companyId": e.C1}, "belongs to another company"},
		{map[string]any{"locationId": 5}, "locationId must be a string"},
	} {
		wantError(t, e.do("POST", "/_ghlkit/tokens", "", tc.body), 422, tc.msg)
	}
	wantError(t, e.do("POST", "/_ghlkit/tokens", "", "[1,"), 400, "")

	// The Go API.
	sec, tok, err := sandbox.CreatePrivateToken(context.Background(), e.Store, sandbox.PITParams{LocationID: e.L2, Scopes: []string{"locations.readonly"}})
	if err != nil {
		t.Fatal(err)
	}
	if tok.UserType != sandbox.UserTypeLocation || tok.CompanyID != e.C1 || tok.Hash != sandbox.HashSecret(sec) {
		t.Errorf("CreatePrivateToken: %+v", tok)
	}
	e.do("GET", "/locations/"+e.L2, sec, nil).mustStatus(t, 200)
	if _, _, err := sandbox.CreatePrivateToken(context.Background(), e.Store, sandbox.PITParams{LocationID: e.L1, Scopes: []string{"bogus"}}); sandbox.ErrorCode(err) != sandbox.EUNPROCESSABLE {
		t.Errorf("CreatePrivateToken with a bogus scope: %v", err)
	}
}

// TestAdminLocations lists the sandbox's locations with their companies.
func TestAdminLocations(t *testing.T) {
	e := newTestEnv(t)
	all := e.do("GET", "/_ghlkit/locations", "", nil).mustStatus(t, 200).JSON(t)
	if all["count"] != float64(3) {
		t.Fatalf("locations %v", all)
	}
	names := map[string]string{}
	for _, l := range all["locations"].([]any) {
		l := l.(map[string]any)
		names[jsonStr(l, "id")] = jsonStr(l, "companyName")
		if l["timezone"] != "America/New_York" {
			t.Errorf("location %v", l)
		}
	}
	if names[e.L1] != "Company "+e.C1[:4] || names[e.L3] != "Company "+e.C2[:4] {
		t.Errorf("company names %v", names)
	}
	c1 := e.do("GET", "/_ghlkit/locations?companyId="+e.C1, "", nil).mustStatus(t, 200).JSON(t)
	if c1["count"] != float64(2) {
		t.Errorf("C1 locations %v", c1)
	}
}

// TestAdminRefusesCrossOriginWrites: a web page the developer visits must
// not be able to mint tokens or delete apps through the admin API.
func TestAdminRefusesCrossOriginWrites(t *testing.T) {
	e := newTestEnv(t)
	for _, h := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example.com"}} {
		h["Version"] = "2021-07-28"
		wantError(t, e.doH("POST", "/_ghlkit/tokens", "", map[string]any{"locationId": e.L1}, h), 403, "cross-origin")
	}
	if m := e.do("GET", "/_ghlkit/tokens?locationId="+e.L1, "", nil).mustStatus(t, 200).JSON(t); m["count"] != float64(2) {
		t.Errorf("a refused request minted a token: %v", m)
	}
	// Reads and same-origin writes pass.
	e.doH("GET", "/_ghlkit/apps", "", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}).mustStatus(t, 200)
	e.doH("POST", "/_ghlkit/tokens", "", map[string]any{"locationId": e.L1}, map[string]string{"Sec-Fetch-Site": "same-origin"}).mustStatus(t, 201)
}
