package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// consentFormTTL is how long a rendered consent form can be submitted.
const consentFormTTL = time.Hour

// consentKeySetting names the KindSetting record holding the HMAC key of
// consent forms. It lives in the store, not in memory, so a form rendered
// by one sandbox process can be submitted to another behind a balancer.
const consentKeySetting = "oauth-consent-key"

// consent serves GHL's "choose location" page, GET and POST
// /oauth/chooselocation: the user picks where to install the app, approves
// or denies, and is sent back to the app's redirect URI with a code or an
// error.
//
// The form carries a token, an HMAC of the authorization request's fields
// and the time it was rendered, so a submitted form cannot swap the
// redirect URI, scopes or state it was shown with; browsers' cross-origin
// POSTs are refused outright (http.CrossOriginProtection).
type consent struct {
	s    *Server
	tmpl *template.Template
	mu   sync.Mutex
	key  []byte
}

func (s *Server) registerConsent() {
	c := &consent{s: s, tmpl: template.Must(template.New("consent").Parse(consentHTML))}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.render(w, http.StatusForbidden, &consentView{Error: "This form was sent from another website, so it was refused. Open the app's authorization link again."})
	}))
	s.mux.HandleFunc("GET /oauth/chooselocation", c.show)
	s.mux.Handle("POST /oauth/chooselocation", cop.Handler(http.HandlerFunc(c.decide)))
}

// authRequest is a checked authorization request.
type authRequest struct {
	ResponseType string
	ClientID     string
	RedirectURI  string
	Scopes       []string
	State        string
}

// consentPageError is shown on the page: the client or its redirect URI
// cannot be trusted, so there is nowhere safe to redirect to.
type consentPageError struct {
	status int
	msg    string
}

func (e *consentPageError) Error() string { return e.msg }

// consentRedirectError goes back to the client's (verified) redirect URI
// as ?error=…&error_description=…&state=… (RFC 6749 §4.1.2.1).
type consentRedirectError struct {
	code, description string
}

func (e *consentRedirectError) Error() string { return e.code + ": " + e.description }

// client checks client_id and redirect_uri.
func (c *consent) client(ctx context.Context, vals url.Values) (*App, error) {
	clientID := strings.TrimSpace(vals.Get("client_id"))
	if clientID == "" {
		return nil, &consentPageError{http.StatusBadRequest, "The authorization link has no client_id."}
	}
	var app *App
	err := c.s.read(ctx, func(tx Tx) error {
		var err error
		app, err = appByClientID(ctx, tx, clientID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if app == nil {
		return nil, &consentPageError{http.StatusBadRequest, "No app with client_id " + strconv.Quote(clientID) + " is registered with this sandbox."}
	}
	redirect := vals.Get("redirect_uri")
	if redirect == "" {
		return nil, &consentPageError{http.StatusBadRequest, "The authorization link has no redirect_uri."}
	}
	if !app.HasRedirectURI(redirect) {
		return nil, &consentPageError{http.StatusBadRequest, "The redirect_uri " + strconv.Quote(redirect) + " is not registered for " + app.Name +
			"; registered: " + strings.Join(app.RedirectURIs, ", ") + "."}
	}
	// Registration refuses such URIs now, but an app stored before may
	// still have one: never send the browser to a javascript: or data: URI.
	if err := CheckRedirectURI(redirect); err != nil {
		return nil, unsafeRedirect(app, redirect)
	}
	return app, nil
}

// unsafeRedirect is the page error for a registered redirect URI that is
// not an http(s) URL the browser can safely be sent to.
func unsafeRedirect(app *App, redirect string) *consentPageError {
	return &consentPageError{http.StatusBadRequest, "The redirect_uri " + strconv.Quote(redirect) + " registered for " + app.Name +
		" cannot be used: a redirect URI must be an absolute http or https URL without a fragment. Register the app again with such a URI."}
}

// request checks the rest of the authorization request once the client and
// its redirect URI are known good.
func (c *consent) request(app *App, vals url.Values) (*authRequest, error) {
	ar := &authRequest{ResponseType: vals.Get("response_type"), ClientID: app.ClientID, RedirectURI: vals.Get("redirect_uri"), State: vals.Get("state")}
	if ar.ResponseType != "code" {
		return ar, &consentRedirectError{"unsupported_response_type", "response_type must be code"}
	}
	ar.Scopes = uniqueTrimmed(strings.Fields(vals.Get("scope")))
	if len(ar.Scopes) == 0 {
		ar.Scopes = append([]string(nil), app.Scopes...)
	}
	var unknown []string
	for _, sc := range ar.Scopes {
		if !app.HasScope(sc) {
			unknown = append(unknown, sc)
		}
	}
	if len(unknown) > 0 {
		return ar, &consentRedirectError{"invalid_scope", "The app is not registered for the scopes: " + strings.Join(unknown, " ")}
	}
	return ar, nil
}

// show serves GET /oauth/chooselocation.
func (c *consent) show(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	app, err := c.client(ctx, q)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	ar, err := c.request(app, q)
	if err != nil {
		c.fail(w, r, ar, err)
		return
	}
	view, err := c.form(ctx, app, ar)
	if err != nil {
		c.fail(w, r, ar, err)
		return
	}
	c.render(w, http.StatusOK, view)
}

// decide serves POST /oauth/chooselocation: Allow or Deny.
func (c *consent) decide(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, nil, &consentPageError{http.StatusBadRequest, "The form could not be read."})
		return
	}
	f := r.PostForm
	app, err := c.client(ctx, f)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if ok, err := c.verify(ctx, f); err != nil || !ok {
		if err == nil {
			err = &consentPageError{http.StatusBadRequest, "This authorization form has expired or was altered. Open the app's authorization link again."}
		}
		c.fail(w, r, nil, err)
		return
	}
	ar, err := c.request(app, f)
	if err != nil {
		c.fail(w, r, ar, err)
		return
	}
	switch f.Get("action") {
	case "deny":
		c.fail(w, r, ar, &consentRedirectError{"access_denied", "The user denied the request"})
		return
	case "approve":
	default:
		c.fail(w, r, nil, &consentPageError{http.StatusBadRequest, "Choose Allow or Deny."})
		return
	}
	level, id, ok := parseConsentTarget(f.Get("target"))
	if !ok {
		c.fail(w, r, nil, &consentPageError{http.StatusBadRequest, "Choose a sub-account (or an agency) to install the app on."})
		return
	}
	var code string
	err = c.s.write(ctx, func(tx Tx) error {
		var locationID, companyID string
		userType := UserTypeLocation
		if level == InstallLocation {
			loc, _, err := loadLocation(ctx, tx, id)
			if IsNotFound(err) {
				return &consentPageError{http.StatusBadRequest, "That sub-account does not exist."}
			} else if err != nil {
				return err
			}
			locationID, companyID = loc.ID, loc.CompanyID
		} else {
			if !app.AllowsAgency() {
				return &consentPageError{http.StatusBadRequest, app.Name + " can only be installed on sub-accounts."}
			}
			if _, err := tx.GetRecord(ctx, KindCompany, id); IsNotFound(err) {
				return &consentPageError{http.StatusBadRequest, "That agency does not exist."}
			} else if err != nil {
				return err
			}
			companyID, userType = id, UserTypeCompany
		}
		userID, err := installUserID(ctx, tx, companyID, locationID)
		if err != nil {
			return err
		}
		if _, _, err := c.s.installApp(ctx, tx, app, level, locationID, companyID, userID); err != nil {
			return err
		}
		code, err = c.s.createAuthCode(ctx, tx, &authCode{AppID: app.ID, ClientID: app.ClientID, RedirectURI: ar.RedirectURI, UserType: userType,
			LocationID: locationID, CompanyID: companyID, UserID: userID, Scopes: ar.Scopes})
		return err
	})
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	c.redirectBack(w, r, ar, url.Values{"code": {code}})
}

func parseConsentTarget(v string) (level, id string, ok bool) {
	kind, id, found := strings.Cut(v, ":")
	if !found || id == "" {
		return "", "", false
	}
	switch kind {
	case InstallLocation, InstallCompany:
		return kind, id, true
	}
	return "", "", false
}

// redirectBack sends the browser to the client's redirect URI with params
// and the request's state. It only ever redirects to an http(s) URL (the
// client check refuses others already; this is the last line).
func (c *consent) redirectBack(w http.ResponseWriter, r *http.Request, ar *authRequest, params url.Values) {
	u, err := url.Parse(ar.RedirectURI)
	if err != nil || CheckRedirectURI(ar.RedirectURI) != nil {
		c.render(w, http.StatusBadRequest, &consentView{Error: "The redirect_uri " + strconv.Quote(ar.RedirectURI) +
			" cannot be used: a redirect URI must be an absolute http or https URL without a fragment."})
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if ar.State != "" {
		q.Set("state", ar.State)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// fail answers an error: back to the client when it is a redirect error
// (and the request is known), on the page otherwise.
func (c *consent) fail(w http.ResponseWriter, r *http.Request, ar *authRequest, err error) {
	var re *consentRedirectError
	if errors.As(err, &re) && ar != nil {
		c.redirectBack(w, r, ar, url.Values{"error": {re.code}, "error_description": {re.description}})
		return
	}
	var pe *consentPageError
	if errors.As(err, &pe) {
		c.render(w, pe.status, &consentView{Error: pe.msg})
		return
	}
	c.s.log.Error("consent page", "path", r.URL.Path, "err", err)
	c.render(w, http.StatusInternalServerError, &consentView{Error: "The sandbox could not process this request. Its log has the details."})
}

// hmacKey returns the consent forms' key, creating it on first use.
func (c *consent) hmacKey(ctx context.Context) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key != nil {
		return c.key, nil
	}
	var doc struct {
		Key []byte `json:"key"`
	}
	err := c.s.write(ctx, func(tx Tx) error {
		err := GetRecordAs(ctx, tx, KindSetting, consentKeySetting, &doc)
		if err == nil && len(doc.Key) >= 32 {
			return nil
		}
		if err != nil && !IsNotFound(err) {
			return err
		}
		doc.Key = make([]byte, 32)
		if _, err := rand.Read(doc.Key); err != nil {
			return err
		}
		return PutRecordOf(ctx, tx, Record{Kind: KindSetting, ID: consentKeySetting, Key: consentKeySetting}, &doc)
	})
	if err != nil {
		return nil, err
	}
	c.key = doc.Key
	return c.key, nil
}

// formMAC authenticates the fields of an authorization request and the
// time its form was rendered.
func formMAC(key []byte, ts string, vals url.Values) []byte {
	m := hmac.New(sha256.New, key)
	for _, part := range []string{"consent", ts, vals.Get("client_id"), vals.Get("redirect_uri"), vals.Get("response_type"),
		strings.Join(strings.Fields(vals.Get("scope")), " "), vals.Get("state")} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// formToken returns the csrf_token field of a form for vals.
func (c *consent) formToken(ctx context.Context, vals url.Values) (string, error) {
	key, err := c.hmacKey(ctx)
	if err != nil {
		return "", err
	}
	ts := strconv.FormatInt(c.s.now().Unix(), 10)
	return ts + "." + base64.RawURLEncoding.EncodeToString(formMAC(key, ts, vals)), nil
}

// verify checks a submitted form's csrf_token: made by this sandbox for
// these fields, within consentFormTTL.
func (c *consent) verify(ctx context.Context, f url.Values) (bool, error) {
	ts, mac, ok := strings.Cut(f.Get("csrf_token"), ".")
	if !ok {
		return false, nil
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false, nil
	}
	if age := c.s.now().Sub(time.Unix(sec, 0)); age < -time.Minute || age > consentFormTTL {
		return false, nil
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil {
		return false, nil
	}
	key, err := c.hmacKey(ctx)
	if err != nil {
		return false, err
	}
	return hmac.Equal(got, formMAC(key, ts, f)), nil
}

// consentView is the data of the page template.
type consentView struct {
	Error        string
	AppName      string
	RedirectHost string
	Hidden       []consentField
	Scopes       []consentScope
	Groups       []consentGroup
}

type consentField struct{ Name, Value string }

type consentScope struct{ Name, Access string }

type consentGroup struct {
	Name    string
	Options []consentOption
}

type consentOption struct {
	ID      string // the input's element id
	Value   string // "location:<id>" or "company:<id>"
	Label   string
	Detail  string
	Checked bool
}

// form builds the consent form: the requested scopes and every location
// of the sandbox, grouped by company, plus agency-level installs for apps
// that allow them.
func (c *consent) form(ctx context.Context, app *App, ar *authRequest) (*consentView, error) {
	vals := url.Values{"client_id": {ar.ClientID}, "redirect_uri": {ar.RedirectURI}, "response_type": {ar.ResponseType},
		"scope": {strings.Join(ar.Scopes, " ")}, "state": {ar.State}}
	token, err := c.formToken(ctx, vals)
	if err != nil {
		return nil, err
	}
	v := &consentView{AppName: app.Name, RedirectHost: redirectHost(ar.RedirectURI)}
	for _, name := range []string{"client_id", "redirect_uri", "response_type", "scope", "state"} {
		v.Hidden = append(v.Hidden, consentField{name, vals.Get(name)})
	}
	v.Hidden = append(v.Hidden, consentField{"csrf_token", token})
	for _, sc := range ar.Scopes {
		v.Scopes = append(v.Scopes, consentScope{Name: sc, Access: scopeAccess(sc)})
	}
	var companies []*Company
	var locations []*Location
	err = c.s.read(ctx, func(tx Tx) error {
		var err error
		if companies, err = ListRecordsAs[Company](ctx, tx, RecordQuery{Kind: KindCompany}); err != nil {
			return err
		}
		locations, err = ListRecordsAs[Location](ctx, tx, RecordQuery{Kind: KindLocation})
		return err
	})
	if err != nil {
		return nil, err
	}
	byCompany := map[string][]*Location{}
	for _, l := range locations {
		byCompany[l.CompanyID] = append(byCompany[l.CompanyID], l)
	}
	n := 0
	option := func(value, label, detail string) consentOption {
		n++
		return consentOption{ID: "target-" + strconv.Itoa(n), Value: value, Label: label, Detail: detail}
	}
	known := map[string]bool{}
	for _, co := range companies {
		known[co.ID] = true
		g := consentGroup{Name: firstNonEmpty(co.Name, "Agency "+co.ID)}
		if app.AllowsAgency() {
			g.Options = append(g.Options, option(InstallCompany+":"+co.ID, "The whole agency", "Agency-level install: the app gets an agency token and can reach every sub-account"))
		}
		for _, l := range byCompany[co.ID] {
			g.Options = append(g.Options, option(InstallLocation+":"+l.ID, firstNonEmpty(l.Name, l.ID), locationAddress(l)))
		}
		if len(g.Options) > 0 {
			v.Groups = append(v.Groups, g)
		}
	}
	other := consentGroup{Name: "Other sub-accounts"}
	for _, l := range locations {
		if !known[l.CompanyID] {
			other.Options = append(other.Options, option(InstallLocation+":"+l.ID, firstNonEmpty(l.Name, l.ID), locationAddress(l)))
		}
	}
	if len(other.Options) > 0 {
		v.Groups = append(v.Groups, other)
	}
	if n == 1 {
		v.Groups[0].Options[0].Checked = true
	}
	return v, nil
}

// scopeAccess describes a scope's access level in a word.
func scopeAccess(scope string) string {
	switch {
	case strings.HasSuffix(scope, ".readonly") || strings.HasSuffix(scope, ".read"):
		return "view"
	case strings.HasSuffix(scope, ".write"):
		return "view and change"
	}
	return "use"
}

func redirectHost(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	if u.Host != "" {
		return u.Host
	}
	return u.Scheme + ":"
}

// render writes the page. Scripts are not needed and not allowed; the page
// may not be framed (clickjacking an Allow button).
func (c *consent) render(w http.ResponseWriter, status int, v *consentView) {
	var buf bytes.Buffer
	if err := c.tmpl.Execute(&buf, v); err != nil {
		c.s.log.Error("consent page template", "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

const consentHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Error}}Cannot connect the app{{else}}Connect {{.AppName}}{{end}} · ghlkit sandbox</title>
<style>
:root { color-scheme: light dark; --fg: #1a1a1a; --bg: #fff; --muted: #555; --line: #ccc; --accent: #1f5fbf; --err: #a4000f; }
@media (prefers-color-scheme: dark) { :root { --fg: #eee; --bg: #161616; --muted: #b5b5b5; --line: #555; --accent: #8ab4f8; --err: #ff8a8a; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.muted { color: var(--muted); }
ul.scopes { padding-left: 1.25rem; }
code { font-size: .95em; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 1rem; padding: .5rem 1rem 1rem; }
legend { font-weight: 600; padding: 0 .25rem; }
.option { display: flex; gap: .5rem; align-items: flex-start; margin-top: .5rem; }
.option input { margin-top: .3rem; width: 1.1rem; height: 1.1rem; }
.option small { display: block; color: var(--muted); }
.actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
button { font: inherit; padding: .6rem 1.2rem; border-radius: 6px; border: 2px solid var(--accent); cursor: pointer; }
button[value=approve] { background: var(--accent); color: var(--bg); }
button[value=deny] { background: transparent; color: var(--fg); }
button:disabled { opacity: .5; cursor: not-allowed; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.error { color: var(--err); font-weight: 600; }
</style>
</head>
<body>
<main>
{{- if .Error}}
<h1>Cannot connect the app</h1>
<p class="error" role="alert">{{.Error}}</p>
<p class="muted">This is the ghlkit sandbox's authorization page. Check the app's client id and redirect URIs with <code>GET /_ghlkit/apps</code>.</p>
{{- else}}
<h1>Connect {{.AppName}}</h1>
<p>{{.AppName}} wants access to your account in this ghlkit sandbox. When you allow it, you will be sent back to <strong>{{.RedirectHost}}</strong>.</p>
<form method="post" action="/oauth/chooselocation">
{{- range .Hidden}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{- end}}
<section aria-labelledby="scopes-title">
<h2 id="scopes-title">It will be able to</h2>
<ul class="scopes">
{{- range .Scopes}}
<li>{{.Access}}: <code>{{.Name}}</code></li>
{{- end}}
</ul>
</section>
<section aria-labelledby="where-title">
<h2 id="where-title">Where should it be installed?</h2>
{{- range .Groups}}
<fieldset>
<legend>{{.Name}}</legend>
{{- range .Options}}
<div class="option">
<input type="radio" name="target" id="{{.ID}}" value="{{.Value}}" required{{if .Checked}} checked{{end}}{{if .Detail}} aria-describedby="{{.ID}}-detail"{{end}}>
<label for="{{.ID}}">{{.Label}}{{if .Detail}}<small id="{{.ID}}-detail">{{.Detail}}</small>{{end}}</label>
</div>
{{- end}}
</fieldset>
{{- else}}
<p role="status">This sandbox has no sub-accounts yet. Create one (<code>POST /locations/</code> with an agency token) and reload this page.</p>
{{- end}}
</section>
<div class="actions">
<button type="submit" name="action" value="approve"{{if not .Groups}} disabled{{end}}>Allow and install</button>
<button type="submit" name="action" value="deny" formnovalidate>Deny</button>
</div>
</form>
{{- end}}
</main>
</body>
</html>
`
