package sandbox_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox"
)

// badRedirectURIs are refused as redirect URIs, with what the message says.
var badRedirectURIs = []struct{ uri, msg string }{
	{"javascript:alert(1)", `redirectUris: "javascript:alert(1)" must be an http or https URL`},
	{"data:text/html,hi", `redirectUris: "data:text/html,hi" must be an http or https URL`},
	{"JavaScript:alert(1)", "must be an http or https URL"},
	{"myapp://oauth", "must be an http or https URL"},
	{"ftp://files.example.com/cb", "must be an http or https URL"},
	{"https:///cb", "has no host"},
	{"http:cb", "has no host"},
	{"https://x.example.com/cb#frag", "must not contain a fragment"},
	{"https://x.example.com/cb#", "must not contain a fragment"},
	{"/relative", "must be an absolute URI"},
}

// TestAppRedirectURIs: redirect URIs are absolute http(s) URLs with a host
// and no fragment (RFC 6749 §3.1.2), through the admin API and the Go API
// the CLI uses; anything else is a 422 naming the field, and no app.
func TestAppRedirectURIs(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range badRedirectURIs {
		res := e.do("POST", "/_ghlkit/apps", "", map[string]any{"name": "X", "redirectUris": []string{"https://ok.example.com/cb", tc.uri}})
		wantError(t, res, 422, tc.msg)
		if m := res.JSON(t); m["error"] != "Unprocessable Entity" {
			t.Errorf("%s: error %v", tc.uri, m["error"])
		}
		_, _, err := sandbox.CreateApp(context.Background(), e.Store, sandbox.AppParams{Name: "X", RedirectURIs: []string{tc.uri}})
		var se *sandbox.Error
		if !errors.As(err, &se) || se.Code != sandbox.EUNPROCESSABLE || !strings.Contains(se.Message, tc.msg) {
			t.Errorf("CreateApp with %q: %v", tc.uri, err)
		}
		if err := sandbox.CheckAppParams(sandbox.AppParams{Name: "X", RedirectURIs: []string{tc.uri}}); err == nil || !strings.Contains(sandbox.ErrorMessage(err), tc.msg) {
			t.Errorf("CheckAppParams with %q: %v", tc.uri, err)
		}
	}
	if n := e.do("GET", "/_ghlkit/apps", "", nil).mustStatus(t, 200).JSON(t)["count"]; n != float64(0) {
		t.Errorf("%v apps after refused creations", n)
	}
	for _, uri := range []string{"http://localhost:3000/cb", "https://app.example.com/oauth/cb?tenant=1", "HTTPS://App.Example.com/cb", "http://127.0.0.1:8080/"} {
		if err := sandbox.CheckRedirectURI(uri); err != nil {
			t.Errorf("CheckRedirectURI(%q): %v", uri, err)
		}
	}
	if err := sandbox.CheckAppParams(sandbox.AppParams{Name: "X", RedirectURIs: []string{"https://ok.example.com/cb"}}); err != nil {
		t.Errorf("CheckAppParams of a good app: %v", err)
	}
}

// TestConsentRefusesUnsafeStoredRedirect: an app stored before redirect
// URIs were checked may have a javascript: one; the consent page shows an
// error instead of ever redirecting there, on GET and on POST (approve or
// deny), and installs nothing.
func TestConsentRefusesUnsafeStoredRedirect(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	const clientID = "bbbbbbbbbbbbbbbbbbbbbbbb-legacy01"
	for _, redirect := range []string{"javascript:alert(1)", "data:text/html,hi", "myapp://cb"} {
		err := e.Store.Write(ctx, func(tx sandbox.Tx) error {
			_ = tx.DeleteRecord(ctx, sandbox.KindApp, "bbbbbbbbbbbbbbbbbbbbbbbb")
			app := &sandbox.App{ID: "bbbbbbbbbbbbbbbbbbbbbbbb", Name: "Legacy", ClientID: clientID, ClientSecretHash: sandbox.HashSecret("s"),
				RedirectURIs: []string{redirect}, Scopes: []string{"contacts.readonly"}, DistributionType: sandbox.DistributionSubAccount}
			return sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindApp, ID: app.ID, Key: app.ClientID}, app)
		})
		if err != nil {
			t.Fatal(err)
		}
		q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "scope": {"contacts.readonly"}, "state": {"s"}}
		for name, send := range map[string]func() (*http.Response, string){
			"GET": func() (*http.Response, string) { return consentPage(t, e, q) },
			"GET with a bad scope": func() (*http.Response, string) {
				bad := url.Values{}
				for k, v := range q {
					bad[k] = v
				}
				bad.Set("scope", "not.a.scope")
				return consentPage(t, e, bad)
			},
			"POST approve": func() (*http.Response, string) {
				f := url.Values{"target": {"location:" + e.L1}, "action": {"approve"}, "csrf_token": {"0.x"}}
				for k, v := range q {
					f[k] = v
				}
				return postConsent(t, e, f, nil)
			},
			"POST deny": func() (*http.Response, string) {
				f := url.Values{"action": {"deny"}}
				for k, v := range q {
					f[k] = v
				}
				return postConsent(t, e, f, nil)
			},
		} {
			res, body := send()
			if res.StatusCode != 400 || res.Header.Get("Location") != "" || !strings.Contains(body, `role="alert"`) ||
				!strings.Contains(body, "must be an absolute http or https URL") {
				t.Errorf("%s %s: %d Location=%q\n%s", redirect, name, res.StatusCode, res.Header.Get("Location"), body)
			}
		}
	}
	if ev := outboxEvents(t, e, "AppInstall"); len(ev) != 0 {
		t.Errorf("the app was installed: %v", ev)
	}
}

// TestCreateAppConflicts: a taken client id, and a new client id whose app
// id (the part before "-") is taken, are refused, each saying which.
func TestCreateAppConflicts(t *testing.T) {
	e := newTestEnv(t)
	e.do("POST", "/_ghlkit/apps", "", map[string]any{"name": "Fixed", "redirectUris": []string{"http://localhost:3000/cb"},
		"clientId": "fixed-abc"}).mustStatus(t, 201)
	for _, tc := range []struct{ clientID, msg string }{
		{"fixed-abc", "An app with client id fixed-abc exists already"},
		{"fixed-other", `An app with app id fixed exists already (client id fixed-abc); the app id is the part of a client id before "-", so client id fixed-other cannot be used`},
		{"fixed", "An app with app id fixed exists already (client id fixed-abc)"},
	} {
		res := e.do("POST", "/_ghlkit/apps", "", map[string]any{"name": "Again", "redirectUris": []string{"http://localhost:3000/cb"}, "clientId": tc.clientID})
		wantError(t, res, 400, tc.msg)
		if strings.Contains(string(res.Body), "client id "+tc.clientID+" (app id") {
			t.Errorf("%s: the message blames the client id: %s", tc.clientID, res.Body)
		}
	}
	// Another app id is free, even with the same suffix.
	e.do("POST", "/_ghlkit/apps", "", map[string]any{"name": "Other", "redirectUris": []string{"http://localhost:3000/cb"}, "clientId": "other-abc"}).mustStatus(t, 201)
}
