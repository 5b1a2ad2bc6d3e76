package sandbox_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// testClock is a settable clock for Config.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// oauthApp is an app registered through the admin API.
type oauthApp struct {
	ID, ClientID, Secret, Redirect string
}

// newOAuthApp registers an app whose single redirect URI is redirect;
// extra overrides fields of the request body.
func newOAuthApp(t *testing.T, e *testEnv, redirect string, extra map[string]any) oauthApp {
	t.Helper()
	body := map[string]any{"name": "Demo App", "redirectUris": []string{redirect},
		"scopes": []string{"contacts.readonly", "locations.readonly"}}
	for k, v := range extra {
		body[k] = v
	}
	m := e.do("POST", "/_ghlkit/apps", "", body).mustStatus(t, 201).JSON(t)
	app := m["app"].(map[string]any)
	return oauthApp{ID: app["id"].(string), ClientID: app["clientId"].(string), Secret: m["clientSecret"].(string), Redirect: redirect}
}

// authURL is the consent page URL for the app.
func (a oauthApp) authURL(e *testEnv, scope, state string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {a.ClientID}, "redirect_uri": {a.Redirect}, "scope": {scope}, "state": {state}}
	return e.HTTP.URL + "/oauth/chooselocation?" + q.Encode()
}

var (
	inputTagRE = regexp.MustCompile(`<input\b[^>]*>`)
	attrRE     = regexp.MustCompile(`([a-zA-Z][a-zA-Z-]*)(?:="([^"]*)")?`)
)

// consentForm is what a browser would read from the consent page.
type consentForm struct {
	Hidden  url.Values
	Targets []string // the radio values, in page order
	Checked []string
	Body    string
}

func parseConsentForm(t *testing.T, body string) consentForm {
	t.Helper()
	f := consentForm{Hidden: url.Values{}, Body: body}
	for _, tag := range inputTagRE.FindAllString(body, -1) {
		attrs := map[string]string{}
		for _, m := range attrRE.FindAllStringSubmatch(strings.TrimPrefix(tag, "<input"), -1) {
			attrs[m[1]] = html.UnescapeString(m[2])
		}
		_, checked := attrs["checked"]
		switch attrs["type"] {
		case "hidden":
			f.Hidden.Set(attrs["name"], attrs["value"])
		case "radio":
			if attrs["name"] != "target" {
				t.Errorf("radio named %q", attrs["name"])
			}
			f.Targets = append(f.Targets, attrs["value"])
			if checked {
				f.Checked = append(f.Checked, attrs["value"])
			}
		}
	}
	return f
}

// getConsent fetches and parses the consent page.
func getConsent(t *testing.T, pageURL string) (*http.Response, consentForm) {
	t.Helper()
	res, err := http.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, parseConsentForm(t, string(raw))
}

// noRedirect is a client that returns redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// consentPage loads the consent page with query q, without following a
// redirect.
func consentPage(t *testing.T, e *testEnv, q url.Values) (*http.Response, string) {
	t.Helper()
	res, err := noRedirect.Get(e.HTTP.URL + "/oauth/chooselocation?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, string(raw)
}

// postConsent submits the consent form without following the redirect.
func postConsent(t *testing.T, e *testEnv, form url.Values, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", e.HTTP.URL+"/oauth/chooselocation", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, string(raw)
}

// approveConsent runs the consent page for the app and target ("location:<id>" or
// "company:<id>") and returns the code of the redirect.
func approveConsent(t *testing.T, e *testEnv, app oauthApp, scope, target string) string {
	t.Helper()
	res, f := getConsent(t, app.authURL(e, scope, "st"))
	if res.StatusCode != 200 {
		t.Fatalf("consent page: %d\n%s", res.StatusCode, f.Body)
	}
	form := f.Hidden
	form.Set("target", target)
	form.Set("action", "approve")
	post, body := postConsent(t, e, form, nil)
	if post.StatusCode != http.StatusFound {
		t.Fatalf("approve: %d\n%s", post.StatusCode, body)
	}
	loc, err := url.Parse(post.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if code := loc.Query().Get("code"); code != "" {
		return code
	}
	t.Fatalf("no code in %s", loc)
	return ""
}

// oauthTokenRequest posts a form to /oauth/token as OAuth clients do: no
// Version header, no bearer token.
func oauthTokenRequest(e *testEnv, form url.Values) *response {
	return e.doH("POST", "/oauth/token", "", form.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Version": ""})
}

// exchangeCode trades an authorization code; userType may be empty.
func exchangeCode(e *testEnv, app oauthApp, code, userType string) *response {
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {app.ClientID}, "client_secret": {app.Secret},
		"code": {code}, "redirect_uri": {app.Redirect}}
	if userType != "" {
		form.Set("user_type", userType)
	}
	return oauthTokenRequest(e, form)
}

// refreshOAuth trades a Location refresh token for a new pair.
func refreshOAuth(e *testEnv, app oauthApp, refresh string) *response {
	return oauthTokenRequest(e, url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "client_secret": {app.Secret},
		"refresh_token": {refresh}, "user_type": {"Location"}})
}

// wantOAuthError checks an RFC 6749 §5.2 error answer.
func wantOAuthError(t *testing.T, res *response, status int, code, desc string) {
	t.Helper()
	m := res.mustStatus(t, status).JSON(t)
	if m["error"] != code {
		t.Errorf("error = %v, want %s (body %s)", m["error"], code, res.Body)
	}
	if d, _ := m["error_description"].(string); !strings.Contains(d, desc) {
		t.Errorf("error_description %q does not contain %q", d, desc)
	}
}

// jsonStr reads a string field of a decoded JSON object.
func jsonStr(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// TestOAuthAuthorizationCodeFlow is the whole flow as an integration runs
// it: consent page, approval, redirect to the app's callback with code and
// state, code exchange, API calls, refresh with rotation.
func TestOAuthAuthorizationCodeFlow(t *testing.T) {
	e := newTestEnv(t)
	type callback struct{ code, state string }
	got := make(chan callback, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/callback" {
			http.NotFound(w, r)
			return
		}
		got <- callback{r.URL.Query().Get("code"), r.URL.Query().Get("state")}
		io.WriteString(w, "connected")
	}))
	defer cb.Close()
	app := newOAuthApp(t, e, cb.URL+"/oauth/callback", nil)
	if !regexp.MustCompile(`^[0-9a-f]{24}-[0-9a-z]{8}$`).MatchString(app.ClientID) || !strings.HasPrefix(app.ClientID, app.ID+"-") {
		t.Errorf("client id %q / app id %q are not GHL-shaped", app.ClientID, app.ID)
	}

	// The consent page: the app, its scopes and every location by company;
	// a Sub-Account app offers no agency-level install.
	state := "s/t+a=te &<x>"
	q := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {app.Redirect},
		"scope": {"locations.readonly contacts.readonly"}, "state": {state}, "loginWindowOpenMode": {"self"}}
	res, f := getConsent(t, e.HTTP.URL+"/oauth/chooselocation?"+q.Encode())
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("consent page %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), f.Body)
	}
	if res.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("consent page can be framed: %v", res.Header)
	}
	for _, s := range []string{"Demo App", "<code>locations.readonly</code>", "<code>contacts.readonly</code>", "Location One", "Location Two", "Location Three", `<html lang="en">`, "<legend>"} {
		if !strings.Contains(f.Body, s) {
			t.Errorf("consent page lacks %q", s)
		}
	}
	// C1's locations, then C2's (L1 and L2 may come in either order).
	wantTargets := []string{"location:" + e.L1, "location:" + e.L2}
	slices.Sort(wantTargets)
	got12 := slices.Clone(f.Targets[:min(2, len(f.Targets))])
	slices.Sort(got12)
	if len(f.Targets) != 3 || !slices.Equal(got12, wantTargets) || f.Targets[2] != "location:"+e.L3 {
		t.Errorf("targets %v, want %v", f.Targets, wantTargets)
	}
	if f.Hidden.Get("csrf_token") == "" || f.Hidden.Get("state") != state || f.Hidden.Get("scope") != "locations.readonly contacts.readonly" {
		t.Errorf("hidden fields %v", f.Hidden)
	}

	// Approve for L1; the browser follows the redirect to the callback.
	form := f.Hidden
	form.Set("target", "location:"+e.L1)
	form.Set("action", "approve")
	post, err := http.PostForm(e.HTTP.URL+"/oauth/chooselocation", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(post.Body)
	post.Body.Close()
	if post.StatusCode != 200 || string(body) != "connected" {
		t.Fatalf("after approval: %d %s", post.StatusCode, body)
	}
	var back callback
	select {
	case back = <-got:
	default:
		t.Fatal("the callback was not called")
	}
	if back.state != state || len(back.code) < 32 {
		t.Fatalf("callback got %+v", back)
	}

	// The install emitted AppInstall with the documented location fields.
	installs := outboxEvents(t, e, "AppInstall")
	if len(installs) != 1 {
		t.Fatalf("AppInstall events: %v", installs)
	}
	ev := installs[0]
	for k, v := range map[string]any{"type": "INSTALL", "appId": app.ID, "locationId": e.L1, "companyId": e.C1, "isWhitelabelCompany": false, "companyName": "Company " + e.C1[:4]} {
		if ev[k] != v {
			t.Errorf("AppInstall %s = %v, want %v", k, ev[k], v)
		}
	}
	if jsonStr(ev, "userId") == "" || jsonStr(ev, "webhookId") == "" || jsonStr(ev, "timestamp") == "" {
		t.Errorf("AppInstall lacks userId/webhookId/timestamp: %v", ev)
	}
	if _, ok := ev["trial"].(map[string]any); !ok {
		t.Errorf("AppInstall trial = %v", ev["trial"])
	}

	// Exchange the code.
	tr := exchangeCode(e, app, back.code, "Location").mustStatus(t, 200)
	if cc := tr.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token response Cache-Control %q", cc)
	}
	tok := tr.JSON(t)
	for k, v := range map[string]any{"token_type": "Bearer", "expires_in": float64(86399), "scope": "locations.readonly contacts.readonly",
		"userType": "Location", "locationId": e.L1, "companyId": e.C1, "userId": ev["userId"], "isBulkInstallation": false} {
		if tok[k] != v {
			t.Errorf("token %s = %v, want %v", k, tok[k], v)
		}
	}
	for _, k := range []string{"access_token", "refresh_token", "refreshTokenId"} {
		if jsonStr(tok, k) == "" {
			t.Errorf("token response lacks %s: %v", k, tok)
		}
	}
	if _, ok := tok["approvedLocations"]; ok {
		t.Errorf("a Location token carries approvedLocations: %v", tok)
	}
	access, refresh := jsonStr(tok, "access_token"), jsonStr(tok, "refresh_token")
	parts := strings.Split(access, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not JWT-shaped: %q", access)
	}
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || !strings.Contains(string(claims), `"authClass":"Location"`) || !strings.Contains(string(claims), `"authClassId":"`+e.L1+`"`) {
		t.Errorf("claims %s (%v)", claims, err)
	}

	// The token works on its location, within its scopes only.
	loc := e.do("GET", "/locations/"+e.L1, access, nil).mustStatus(t, 200).JSON(t)
	if l, _ := loc["location"].(map[string]any); jsonStr(l, "id") != e.L1 {
		t.Errorf("GET /locations/L1 = %v", loc)
	}
	wantError(t, e.do("GET", "/locations/"+e.L2, access, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("POST", "/contacts/", access, map[string]any{"locationId": e.L1, "firstName": "X"}), 401, sandbox.MsgScope)

	// A code is single-use.
	wantOAuthError(t, exchangeCode(e, app, back.code, "Location"), 400, "invalid_grant", "already been used")

	// Refresh: a new pair; the old access token stays valid (as on GHL),
	// the old refresh token is spent.
	r2 := refreshOAuth(e, app, refresh).mustStatus(t, 200).JSON(t)
	access2, refresh2 := jsonStr(r2, "access_token"), jsonStr(r2, "refresh_token")
	if access2 == "" || refresh2 == "" || access2 == access || refresh2 == refresh || jsonStr(r2, "refreshTokenId") == jsonStr(tok, "refreshTokenId") {
		t.Fatalf("refresh did not rotate: %v", r2)
	}
	if r2["locationId"] != e.L1 || r2["userType"] != "Location" || r2["scope"] != "locations.readonly contacts.readonly" || r2["userId"] != tok["userId"] {
		t.Errorf("refreshed token %v", r2)
	}
	e.do("GET", "/locations/"+e.L1, access2, nil).mustStatus(t, 200)
	e.do("GET", "/locations/"+e.L1, access, nil).mustStatus(t, 200)
	wantOAuthError(t, refreshOAuth(e, app, refresh), 400, "invalid_grant", "already been used")
	r3 := refreshOAuth(e, app, refresh2).mustStatus(t, 200).JSON(t)
	e.do("GET", "/locations/"+e.L1, jsonStr(r3, "access_token"), nil).mustStatus(t, 200)
	// A refresh token is no bearer token.
	wantError(t, e.do("GET", "/locations/"+e.L1, jsonStr(r3, "refresh_token"), nil), 401, sandbox.MsgInvalidToken)
	// Re-consenting on an installed location gives a new code but no
	// second install.
	code := approveConsent(t, e, app, "contacts.readonly", "location:"+e.L1)
	exchangeCode(e, app, code, "").mustStatus(t, 200)
	if n := len(outboxEvents(t, e, "AppInstall")); n != 1 {
		t.Errorf("AppInstall events after re-consent: %d, want 1", n)
	}
}

// TestOAuthTokenErrors covers the token endpoint's refusals, each in
// OAuth's error shape, and that a refused exchange does not spend the code.
func TestOAuthTokenErrors(t *testing.T) {
	clock := newTestClock()
	e := newTestEnv(t, func(c *sandbox.Config) { c.Now = clock.Now })
	app := newOAuthApp(t, e, "https://app.example.com/cb", nil)
	other := newOAuthApp(t, e, "https://other.example.com/cb", nil)
	code := approveConsent(t, e, app, "contacts.readonly", "location:"+e.L1)
	base := url.Values{"grant_type": {"authorization_code"}, "client_id": {app.ClientID}, "client_secret": {app.Secret}, "code": {code}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vals := range base {
			f[key] = vals
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	cases := []struct {
		name   string
		form   url.Values
		status int
		code   string
		desc   string
	}{
		{"unknown client", with("client_id", "nope-12345678"), 401, "invalid_client", "Invalid client credentials"},
		{"wrong secret", with("client_secret", "wrong"), 401, "invalid_client", "Invalid client credentials"},
		{"other app's secret", with("client_secret", other.Secret), 401, "invalid_client", ""},
		{"no grant_type", with("grant_type", ""), 400, "invalid_request", "grant_type is required"},
		{"no client_secret", with("client_secret", ""), 400, "invalid_request", "client_secret is required"},
		{"client_credentials", with("grant_type", "client_credentials"), 400, "unsupported_grant_type", "client_credentials"},
		{"no code", with("code", ""), 400, "invalid_request", "code is required"},
		{"bad user_type", with("user_type", "Agency"), 400, "invalid_request", "user_type"},
		{"unknown code", with("code", "0123456789abcdef0123456789abcdef01234567"), 400, "invalid_grant", "Invalid authorization code"},
		{"wrong redirect_uri", with("redirect_uri", "https://app.example.com/cb/other"), 400, "invalid_grant", "redirect_uri does not match"},
		{"Company from a location code", with("user_type", "Company"), 400, "invalid_grant", "location-level install"},
		{"no refresh_token", with("grant_type", "refresh_token"), 400, "invalid_request", "refresh_token is required"},
		{"unknown refresh token", func() url.Values {
			f := with("grant_type", "refresh_token")
			f.Set("refresh_token", "abc-def")
			return f
		}(), 400, "invalid_grant", "Invalid refresh token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantOAuthError(t, oauthTokenRequest(e, c.form), c.status, c.code, c.desc) })
	}
	// The other app cannot redeem this app's code with its own credentials.
	wantOAuthError(t, exchangeCode(e, other, code, ""), 400, "invalid_grant", "another client")
	// None of the refusals spent the code; a JSON body with the client in
	// HTTP Basic (RFC 6749 §2.3.1) is accepted too.
	req, _ := http.NewRequest("POST", e.HTTP.URL+"/oauth/token", strings.NewReader(`{"grant_type":"authorization_code","code":"`+code+`","redirect_uri":"https://app.example.com/cb"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(url.QueryEscape(app.ClientID), url.QueryEscape(app.Secret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if res.StatusCode != 200 || jsonStr(tok, "access_token") == "" {
		t.Fatalf("exchange with Basic auth and JSON: %d %v", res.StatusCode, tok)
	}
	// Refresh tokens belong to their client.
	wantOAuthError(t, oauthTokenRequest(e, url.Values{"grant_type": {"refresh_token"}, "client_id": {other.ClientID}, "client_secret": {other.Secret},
		"refresh_token": {jsonStr(tok, "refresh_token")}}), 400, "invalid_grant", "another client")
	wantOAuthError(t, oauthTokenRequest(e, url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "client_secret": {app.Secret},
		"refresh_token": {jsonStr(tok, "refresh_token")}, "user_type": {"Company"}}), 400, "invalid_grant", "Location token")
	// Bad Basic credentials are challenged.
	req, _ = http.NewRequest("POST", e.HTTP.URL+"/oauth/token", strings.NewReader("grant_type=authorization_code&code=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(app.ClientID, "wrong")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("bad Basic credentials: %d %v", res.StatusCode, res.Header)
	}
	// Codes expire after ten minutes.
	late := approveConsent(t, e, app, "contacts.readonly", "location:"+e.L2)
	clock.Advance(10*time.Minute + time.Second)
	wantOAuthError(t, exchangeCode(e, app, late, ""), 400, "invalid_grant", "expired")
}

// TestOAuthTokenExpiry shortens token lifetimes and moves the clock: an
// expired access token answers 401 until refreshed; an expired refresh
// token is invalid_grant.
func TestOAuthTokenExpiry(t *testing.T) {
	clock := newTestClock()
	e := newTestEnv(t, func(c *sandbox.Config) {
		c.Now = clock.Now
		c.TokenTTL = time.Second
		c.RefreshTTL = time.Hour
	})
	app := newOAuthApp(t, e, "https://app.example.com/cb", nil)
	tok := exchangeCode(e, app, approveConsent(t, e, app, "", "location:"+e.L1), "").mustStatus(t, 200).JSON(t)
	if tok["expires_in"] != float64(1) {
		t.Errorf("expires_in = %v, want 1", tok["expires_in"])
	}
	if tok["scope"] != "contacts.readonly locations.readonly" {
		t.Errorf("an empty scope asks for the app's scopes; got %v", tok["scope"])
	}
	access := jsonStr(tok, "access_token")
	e.do("GET", "/locations/"+e.L1, access, nil).mustStatus(t, 200)
	clock.Advance(999 * time.Millisecond)
	e.do("GET", "/locations/"+e.L1, access, nil).mustStatus(t, 200)
	clock.Advance(time.Millisecond)
	wantError(t, e.do("GET", "/locations/"+e.L1, access, nil), 401, sandbox.MsgInvalidToken)

	fresh := refreshOAuth(e, app, jsonStr(tok, "refresh_token")).mustStatus(t, 200).JSON(t)
	e.do("GET", "/locations/"+e.L1, jsonStr(fresh, "access_token"), nil).mustStatus(t, 200)
	clock.Advance(time.Hour)
	wantOAuthError(t, refreshOAuth(e, app, jsonStr(fresh, "refresh_token")), 400, "invalid_grant", "expired")
}

// TestOAuthConcurrentRefresh races one refresh token against itself:
// exactly one exchange wins.
func TestOAuthConcurrentRefresh(t *testing.T) {
	e := newTestEnv(t)
	app := newOAuthApp(t, e, "https://app.example.com/cb", nil)
	tok := exchangeCode(e, app, approveConsent(t, e, app, "contacts.readonly", "location:"+e.L1), "").mustStatus(t, 200).JSON(t)
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "client_secret": {app.Secret}, "refresh_token": {jsonStr(tok, "refresh_token")}}
	const n = 8
	statuses := make(chan int, n)
	bodies := make(chan string, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			res, err := http.PostForm(e.HTTP.URL+"/oauth/token", form)
			if err != nil {
				statuses <- 0
				return
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			statuses <- res.StatusCode
			bodies <- string(raw)
		}()
	}
	start.Done()
	done.Wait()
	close(statuses)
	close(bodies)
	ok, grant := 0, 0
	for s := range statuses {
		switch s {
		case 200:
			ok++
		case 400:
			grant++
		default:
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 || grant != n-1 {
		t.Errorf("%d successes and %d refusals, want 1 and %d", ok, grant, n-1)
	}
	for b := range bodies {
		if !strings.Contains(b, `"access_token"`) && !strings.Contains(b, `"invalid_grant"`) {
			t.Errorf("body %s", b)
		}
	}
}

// TestConsentPageErrors covers what the consent page refuses: untrusted
// clients and redirect URIs on the page (never redirected to), the other
// request errors back at the redirect URI, forged or stale forms, denial.
func TestConsentPageErrors(t *testing.T) {
	clock := newTestClock()
	e := newTestEnv(t, func(c *sandbox.Config) { c.Now = clock.Now })
	app := newOAuthApp(t, e, "https://app.example.com/cb", map[string]any{"redirectUris": []string{"https://app.example.com/cb", "https://app.example.com/other"}})
	app.Redirect = "https://app.example.com/cb"
	page := func(q url.Values) (*http.Response, string) { return consentPage(t, e, q) }
	good := func() url.Values {
		return url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {app.Redirect}, "scope": {"contacts.readonly"}, "state": {"abc"}}
	}
	for name, tc := range map[string]struct {
		k, v, msg string
	}{
		"unknown client":         {"client_id", "ffffffffffffffffffffffff-aaaaaaaa", "No app with client_id"},
		"no client":              {"client_id", "", "has no client_id"},
		"unregistered redirect":  {"redirect_uri", "https://evil.example.com/cb", "is not registered"},
		"redirect prefix":        {"redirect_uri", "https://app.example.com/cb/../../evil", "is not registered"},
		"no redirect":            {"redirect_uri", "", "has no redirect_uri"},
		"redirect with trailing": {"redirect_uri", "https://app.example.com/cb/", "is not registered"},
	} {
		q := good()
		q.Set(tc.k, tc.v)
		if tc.v == "" {
			q.Del(tc.k)
		}
		res, body := page(q)
		if res.StatusCode != 400 || res.Header.Get("Location") != "" || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, tc.msg) {
			t.Errorf("%s: %d Location=%q\n%s", name, res.StatusCode, res.Header.Get("Location"), body)
		}
	}
	// With a trusted redirect URI the other errors go back to the app.
	for _, tc := range []struct{ k, v, code string }{
		{"scope", "contacts.readonly contacts.write", "invalid_scope"},
		{"scope", "not.a.scope", "invalid_scope"},
		{"response_type", "token", "unsupported_response_type"},
	} {
		q := good()
		q.Set(tc.k, tc.v)
		res, _ := page(q)
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != 302 || loc == nil || !strings.HasPrefix(loc.String(), app.Redirect+"?") || loc.Query().Get("error") != tc.code || loc.Query().Get("state") != "abc" {
			t.Errorf("%s=%s: %d %v", tc.k, tc.v, res.StatusCode, res.Header.Get("Location"))
		}
	}

	res, f := getConsent(t, e.HTTP.URL+"/oauth/chooselocation?"+good().Encode())
	if res.StatusCode != 200 {
		t.Fatalf("consent page %d", res.StatusCode)
	}
	submit := func(change func(url.Values), headers map[string]string) (*http.Response, string) {
		form := url.Values{}
		for k, v := range f.Hidden {
			form[k] = v
		}
		form.Set("target", "location:"+e.L1)
		form.Set("action", "approve")
		change(form)
		return postConsent(t, e, form, headers)
	}
	forged := map[string]func(url.Values){
		"tampered token":       func(f url.Values) { f.Set("csrf_token", f.Get("csrf_token")+"x") },
		"no token":             func(f url.Values) { f.Del("csrf_token") },
		"token of another key": func(f url.Values) { f.Set("csrf_token", "1773144000.AAAA") },
		"other redirect_uri":   func(f url.Values) { f.Set("redirect_uri", "https://app.example.com/other") },
		"more scopes":          func(f url.Values) { f.Set("scope", "contacts.readonly locations.readonly") },
		"other state":          func(f url.Values) { f.Set("state", "evil") },
	}
	for name, change := range forged {
		res, body := submit(change, nil)
		if res.StatusCode != 400 || res.Header.Get("Location") != "" || !strings.Contains(body, "expired or was altered") {
			t.Errorf("%s: %d %q\n%s", name, res.StatusCode, res.Header.Get("Location"), body)
		}
	}
	// A browser's cross-origin POST is refused before anything else.
	if res, _ := submit(func(url.Values) {}, map[string]string{"Sec-Fetch-Site": "cross-site"}); res.StatusCode != 403 {
		t.Errorf("cross-site POST: %d", res.StatusCode)
	}
	for name, change := range map[string]func(url.Values){
		"no target":      func(f url.Values) { f.Del("target") },
		"bad target":     func(f url.Values) { f.Set("target", "planet:x") },
		"unknown place":  func(f url.Values) { f.Set("target", "location:"+sandbox.NewID()) },
		"agency install": func(f url.Values) { f.Set("target", "company:"+e.C1) },
		"no action":      func(f url.Values) { f.Del("action") },
	} {
		if res, body := submit(change, nil); res.StatusCode != 400 || res.Header.Get("Location") != "" {
			t.Errorf("%s: %d\n%s", name, res.StatusCode, body)
		}
	}
	// Deny goes back with access_denied and the state.
	res, _ = submit(func(f url.Values) { f.Set("action", "deny"); f.Del("target") }, nil)
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != 302 || loc == nil || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "abc" || loc.Query().Get("code") != "" {
		t.Errorf("deny: %d %v", res.StatusCode, res.Header.Get("Location"))
	}
	// Nothing was installed by any of that.
	if ev := outboxEvents(t, e, "AppInstall"); len(ev) != 0 {
		t.Errorf("refused requests installed the app: %v", ev)
	}
	if m := e.do("GET", "/_ghlkit/installs?appId="+app.ID, "", nil).mustStatus(t, 200).JSON(t); m["count"] != float64(0) {
		t.Errorf("installs %v", m)
	}
	// A form older than an hour has expired.
	clock.Advance(61 * time.Minute)
	if res, body := submit(func(url.Values) {}, nil); res.StatusCode != 400 || !strings.Contains(body, "expired") {
		t.Errorf("stale form: %d\n%s", res.StatusCode, body)
	}
}

// TestOAuthAgencyInstall installs an Agency app at agency level: Company
// tokens, locationToken minting (which installs the location) and
// installedLocations, where the agency-level install (approveAllLocations,
// installToFutureLocations) makes every location of the company, present
// and future, an installed one.
func TestOAuthAgencyInstall(t *testing.T) {
	clock := newTestClock()
	e := newTestEnv(t, func(c *sandbox.Config) { c.Now = clock.Now })
	app := newOAuthApp(t, e, "https://agency.example.com/cb", map[string]any{"distributionType": "Agency",
		"scopes": []string{"oauth.readonly", "oauth.write", "locations.readonly", "contacts.readonly"}})
	_, f := getConsent(t, app.authURL(e, "", "x"))
	for _, want := range []string{"company:" + e.C1, "company:" + e.C2, "location:" + e.L1} {
		if !slices.Contains(f.Targets, want) {
			t.Errorf("targets %v lack %s", f.Targets, want)
		}
	}
	code := approveConsent(t, e, app, "", "company:"+e.C1)
	ev := outboxEvents(t, e, "AppInstall")
	if len(ev) != 1 || ev[0]["companyId"] != e.C1 || ev[0]["appId"] != app.ID || ev[0]["type"] != "INSTALL" {
		t.Fatalf("agency AppInstall %v", ev)
	}
	if _, ok := ev[0]["locationId"]; ok {
		t.Errorf("agency-level AppInstall names a location: %v", ev[0])
	}
	wantOAuthError(t, exchangeCode(e, app, code, "Location"), 400, "invalid_grant", "company-level install")
	tok := exchangeCode(e, app, code, "Company").mustStatus(t, 200).JSON(t)
	if tok["userType"] != "Company" || tok["companyId"] != e.C1 || tok["installToFutureLocations"] != true || tok["approveAllLocations"] != true {
		t.Errorf("company token %v", tok)
	}
	if _, ok := tok["locationId"]; ok {
		t.Errorf("company token names a location: %v", tok)
	}
	agency := jsonStr(tok, "access_token")

	installed := func(query string) map[string]any {
		t.Helper()
		return e.do("GET", "/oauth/installedLocations?companyId="+e.C1+"&appId="+app.ID+query, agency, nil).mustStatus(t, 200).JSON(t)
	}
	// Approving the whole agency installed the app on all of its
	// locations, from the time of the install.
	agencyAt := clock.Now().UTC().Format(sandbox.TimeLayout)
	m := installed("")
	if m["count"] != float64(2) || m["installToFutureLocations"] != true {
		t.Errorf("installedLocations %v", m)
	}
	for _, l := range m["locations"].([]any) {
		l := l.(map[string]any)
		if l["isInstalled"] != true || l["installedAt"] != agencyAt || (l["_id"] != e.L1 && l["_id"] != e.L2) {
			t.Errorf("location %v, want installed at %s", l, agencyAt)
		}
		if _, ok := l["address"]; !ok {
			t.Errorf("location without address: %v", l)
		}
	}
	if m := installed("&isInstalled=true"); m["count"] != float64(2) {
		t.Errorf("isInstalled=true after the agency install: %v", m)
	}
	if m := installed("&isInstalled=false"); m["count"] != float64(0) {
		t.Errorf("isInstalled=false after the agency install: %v", m)
	}

	// Mint a Location token for L2: the app gets installed there too.
	clock.Advance(time.Hour)
	l2At := clock.Now().UTC().Format(sandbox.TimeLayout)
	form := url.Values{"companyId": {e.C1}, "locationId": {e.L2}}
	lt := e.doH("POST", "/oauth/locationToken", agency, form.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Version": "2021-07-28"}).mustStatus(t, 200).JSON(t)
	for k, v := range map[string]any{"token_type": "Bearer", "locationId": e.L2, "appId": app.ID, "userType": "Location", "expires_in": float64(86399)} {
		if lt[k] != v {
			t.Errorf("location token %s = %v, want %v", k, lt[k], v)
		}
	}
	if _, ok := lt["refresh_token"]; ok {
		t.Errorf("location token has a refresh token: %v", lt)
	}
	e.do("GET", "/locations/"+e.L2, jsonStr(lt, "access_token"), nil).mustStatus(t, 200)
	wantError(t, e.do("GET", "/locations/"+e.L1, jsonStr(lt, "access_token"), nil), 403, sandbox.MsgLocation)
	if ev := outboxEvents(t, e, "AppInstall"); len(ev) != 2 || ev[1]["locationId"] != e.L2 || ev[1]["companyId"] != e.C1 {
		t.Errorf("AppInstall after locationToken: %v", ev)
	}
	// Both apps reach L1 now: the webhook fan-out finds them.
	err := e.Store.Read(context.Background(), func(tx sandbox.Tx) error {
		for _, c := range []struct {
			loc, company string
			want         int
		}{{e.L1, e.C1, 1}, {e.L2, e.C1, 1}, {e.L3, e.C2, 0}} {
			apps, err := sandbox.InstalledApps(context.Background(), tx, c.loc, c.company)
			if err != nil {
				return err
			}
			if len(apps) != c.want || (c.want == 1 && apps[0].ID != app.ID) {
				t.Errorf("InstalledApps(%s, %s) = %v, want %d", c.loc, c.company, apps, c.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A second mint reuses the install.
	e.doH("POST", "/oauth/locationToken", agency, form.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Version": "2021-07-28"}).mustStatus(t, 200)
	if n := len(outboxEvents(t, e, "AppInstall")); n != 2 {
		t.Errorf("AppInstall events %d, want 2", n)
	}

	// L2 has an install of its own now, and its time; L1 still the
	// agency's.
	m = installed("&isInstalled=true")
	at := map[string]any{}
	for _, l := range m["locations"].([]any) {
		at[l.(map[string]any)["_id"].(string)] = l.(map[string]any)["installedAt"]
	}
	if m["count"] != float64(2) || at[e.L1] != agencyAt || at[e.L2] != l2At {
		t.Errorf("isInstalled=true: %v, want L1 at %s and L2 at %s", m, agencyAt, l2At)
	}
	if m := installed("&locationId=" + e.L1); m["count"] != float64(1) || m["locations"].([]any)[0].(map[string]any)["isInstalled"] != true {
		t.Errorf("locationId=L1: %v", m)
	}
	// A location the agency adds later is installed too
	// (installToFutureLocations), from when it was added.
	clock.Advance(time.Hour)
	later := e.do("POST", "/locations/", e.TokC1, map[string]any{"name": "Later", "companyId": e.C1}).mustStatus(t, 200).JSON(t)
	if m := installed("&locationId=" + jsonStr(later, "id")); m["count"] != float64(1) ||
		m["locations"].([]any)[0].(map[string]any)["isInstalled"] != true ||
		m["locations"].([]any)[0].(map[string]any)["installedAt"] != clock.Now().UTC().Format(sandbox.TimeLayout) {
		t.Errorf("location added after the agency install: %v", m)
	}
	if m := installed("&isInstalled=true"); m["count"] != float64(3) {
		t.Errorf("isInstalled=true with the later location: %v", m)
	}
	e.do("DELETE", "/locations/"+jsonStr(later, "id")+"?deleteTwilioAccount=false", e.TokC1, nil).mustStatus(t, 200)
	if m = installed("&query=TWO"); m["count"] != float64(1) || m["locations"].([]any)[0].(map[string]any)["name"] != "Location Two" {
		t.Errorf("query=TWO: %v", m)
	}
	first, second := installed("&limit=1"), installed("&skip=1&limit=1")
	if first["count"] != float64(2) || second["count"] != float64(2) || len(first["locations"].([]any)) != 1 || len(second["locations"].([]any)) != 1 ||
		first["locations"].([]any)[0].(map[string]any)["_id"] == second["locations"].([]any)[0].(map[string]any)["_id"] {
		t.Errorf("paging: %v then %v", first, second)
	}
	// The refreshed Company token lists the approved locations.
	if r := refreshTokenAs(e, app, jsonStr(tok, "refresh_token"), "Company").mustStatus(t, 200).JSON(t); !slices.Equal(anyStrings(r["approvedLocations"]), []string{e.L2}) {
		t.Errorf("approvedLocations %v", r["approvedLocations"])
	}

	// Refusals.
	lt2 := func(tok, company, loc string) *response {
		return e.doH("POST", "/oauth/locationToken", tok, url.Values{"companyId": {company}, "locationId": {loc}}.Encode(),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Version": "2021-07-28"})
	}
	wantError(t, lt2(agency, e.C1, e.L3), 403, sandbox.MsgLocation)
	wantError(t, lt2(agency, e.C2, e.L3), 403, "does not have access")
	wantError(t, lt2(agency, e.C1, ""), 422, "locationId should not be empty")
	wantError(t, lt2(e.TokC1, e.C1, e.L1), 401, sandbox.MsgAuthClass)
	wantError(t, e.do("GET", "/oauth/installedLocations?companyId="+e.C1+"&appId="+app.ID+"&isInstalled=maybe", agency, nil), 422, "isInstalled must be a boolean value")
	wantError(t, e.do("GET", "/oauth/installedLocations?companyId="+e.C1+"&appId="+sandbox.NewID(), agency, nil), 404, "App not found")
	wantError(t, e.do("GET", "/oauth/installedLocations?companyId="+e.C2+"&appId="+app.ID, agency, nil), 403, "does not have access")
	other := newOAuthApp(t, e, "https://x.example.com/cb", nil)
	wantError(t, e.do("GET", "/oauth/installedLocations?companyId="+e.C1+"&appId="+other.ID, agency, nil), 403, "does not have access to this app")
}

// refreshTokenAs refreshes asking for a user type.
func refreshTokenAs(e *testEnv, app oauthApp, refresh, userType string) *response {
	return oauthTokenRequest(e, url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "client_secret": {app.Secret},
		"refresh_token": {refresh}, "user_type": {userType}})
}

// TestOAuthUninstall uninstalls through the admin API: the app's tokens
// for the location stop working at once, its refresh token is dead, and
// AppUninstall is emitted. An agency-level uninstall takes the company's
// location installs with it.
func TestOAuthUninstall(t *testing.T) {
	e := newTestEnv(t)
	app := newOAuthApp(t, e, "https://app.example.com/cb", map[string]any{"distributionType": "Both",
		"scopes": []string{"oauth.write", "oauth.readonly", "locations.readonly"}})
	tok := exchangeCode(e, app, approveConsent(t, e, app, "locations.readonly", "location:"+e.L1), "").mustStatus(t, 200).JSON(t)
	l2 := exchangeCode(e, app, approveConsent(t, e, app, "locations.readonly", "location:"+e.L2), "").mustStatus(t, 200).JSON(t)
	access := jsonStr(tok, "access_token")
	e.do("GET", "/locations/"+e.L1, access, nil).mustStatus(t, 200) // now in the auth cache

	res := e.do("DELETE", "/_ghlkit/apps/"+app.ID+"/installs/"+e.L1, "", nil).mustStatus(t, 200).JSON(t)
	if res["succeded"] != true || res["revokedTokens"] != float64(2) {
		t.Errorf("uninstall answered %v", res)
	}
	wantError(t, e.do("GET", "/locations/"+e.L1, access, nil), 401, sandbox.MsgInvalidToken)
	wantOAuthError(t, refreshOAuth(e, app, jsonStr(tok, "refresh_token")), 400, "invalid_grant", "revoked")
	// L2's install and tokens are untouched.
	e.do("GET", "/locations/"+e.L2, jsonStr(l2, "access_token"), nil).mustStatus(t, 200)
	ev := outboxEvents(t, e, "AppUninstall")
	if len(ev) != 1 || ev[0]["type"] != "UNINSTALL" || ev[0]["appId"] != app.ID || ev[0]["locationId"] != e.L1 || ev[0]["companyId"] != e.C1 {
		t.Errorf("AppUninstall %v", ev)
	}
	wantError(t, e.do("DELETE", "/_ghlkit/apps/"+app.ID+"/installs/"+e.L1, "", nil), 404, "not installed")

	// Agency-level: install on C1, mint for L1 (installing it again), then
	// uninstall the agency: all of C1's installs and tokens go.
	agency := jsonStr(exchangeCode(e, app, approveConsent(t, e, app, "", "company:"+e.C1), "Company").mustStatus(t, 200).JSON(t), "access_token")
	lt := e.doH("POST", "/oauth/locationToken", agency, url.Values{"companyId": {e.C1}, "locationId": {e.L1}}.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Version": "2021-07-28"}).mustStatus(t, 200).JSON(t)
	if m := e.do("GET", "/_ghlkit/installs?appId="+app.ClientID, "", nil).mustStatus(t, 200).JSON(t); m["count"] != float64(3) {
		t.Errorf("installs before agency uninstall: %v", m)
	}
	e.do("DELETE", "/_ghlkit/apps/"+app.ID+"/installs/"+e.C1, "", nil).mustStatus(t, 200)
	for _, tk := range []string{agency, jsonStr(lt, "access_token"), jsonStr(l2, "access_token")} {
		if res := e.do("GET", "/locations/"+e.L2, tk, nil); res.Status != 401 {
			t.Errorf("token still works after the agency uninstall: %d %s", res.Status, res.Body)
		}
	}
	if m := e.do("GET", "/_ghlkit/installs?appId="+app.ID, "", nil).mustStatus(t, 200).JSON(t); m["count"] != float64(0) {
		t.Errorf("installs after agency uninstall: %v", m)
	}
	if n := len(outboxEvents(t, e, "AppUninstall")); n != 4 { // L1, then C1, L2 and L1 again
		t.Errorf("AppUninstall events %d, want 4", n)
	}
	// A code issued before the uninstall can no longer be redeemed.
	code := approveConsent(t, e, app, "", "location:"+e.L3)
	e.do("DELETE", "/_ghlkit/apps/"+app.ID+"/installs/"+e.L3, "", nil).mustStatus(t, 200)
	wantOAuthError(t, exchangeCode(e, app, code, ""), 400, "invalid_grant", "no longer installed")
}

// TestOAuthTokenStoresHashesOnly checks that no secret the OAuth server
// hands out is stored in the clear.
func TestOAuthTokenStoresHashesOnly(t *testing.T) {
	e := newTestEnv(t)
	app := newOAuthApp(t, e, "https://app.example.com/cb", nil)
	code := approveConsent(t, e, app, "", "location:"+e.L1)
	tok := exchangeCode(e, app, code, "").mustStatus(t, 200).JSON(t)
	ctx := context.Background()
	err := e.Store.Read(ctx, func(tx sandbox.Tx) error {
		for _, kind := range []sandbox.Kind{sandbox.KindApp, sandbox.KindAuthCode, sandbox.KindToken} {
			recs, err := tx.ListRecords(ctx, sandbox.RecordQuery{Kind: kind})
			if err != nil {
				return err
			}
			for _, r := range recs {
				for _, secret := range []string{app.Secret, code, jsonStr(tok, "access_token"), jsonStr(tok, "refresh_token")} {
					if strings.Contains(string(r.Data), secret) || r.Key == secret {
						t.Errorf("%s record %s stores a secret in the clear", kind, r.ID)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
