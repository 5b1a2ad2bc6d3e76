package oauth_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/ghl"
	"github.com/ghlkit/ghlkit/ghl/oauth"
)

// The token source satisfies the client's interfaces without either
// package importing the other.
var (
	_ ghl.TokenSource    = (*oauth.TokenSource)(nil)
	_ ghl.TokenRefresher = (*oauth.TokenSource)(nil)
)

func config(f *fakeGHL) *oauth.Config {
	return &oauth.Config{ClientID: "cid", ClientSecret: "secret", RedirectURL: "https://app.example/cb", BaseURL: f.srv.URL}
}

func TestAuthCodeURL(t *testing.T) {
	c := &oauth.Config{ClientID: "cid", RedirectURL: "https://app.example/cb", Scopes: []string{"contacts.readonly", "contacts.write"}}
	u, err := url.Parse(c.AuthCodeURL("st8"))
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != oauth.DefaultAuthURL {
		t.Errorf("base = %s", got)
	}
	want := url.Values{"response_type": {"code"}, "redirect_uri": {"https://app.example/cb"}, "client_id": {"cid"},
		"scope": {"contacts.readonly contacts.write"}, "state": {"st8"}}
	if u.Query().Encode() != want.Encode() {
		t.Errorf("query = %s", u.RawQuery)
	}
	c.AuthURL = "http://127.0.0.1:8080/oauth/chooselocation"
	c.AuthParams = url.Values{"loginWindowOpenMode": {"self"}}
	got := c.AuthCodeURL("")
	if !strings.HasPrefix(got, "http://127.0.0.1:8080/oauth/chooselocation?") || strings.Contains(got, "state=") || !strings.Contains(got, "loginWindowOpenMode=self") {
		t.Errorf("sandbox URL = %s", got)
	}
}

func TestExchangeRefreshLocationToken(t *testing.T) {
	f := newFakeGHL(t)
	c := config(f)
	ctx := t.Context()
	tok, err := c.Exchange(ctx, "good-code")
	if err != nil {
		t.Fatal(err)
	}
	if tok.UserType != "Location" || tok.LocationID != "loc1" || tok.RefreshToken == "" || tok.UserID != "u1" ||
		time.Until(tok.Expiry) < 23*time.Hour || tok.Key() != (oauth.Key{UserType: "Location", ID: "loc1"}) {
		t.Errorf("exchanged token = %+v", tok)
	}
	if form := f.forms[0]; form != "client_id=cid&client_secret=secret&code=good-code&grant_type=authorization_code&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&user_type=Location" {
		t.Errorf("exchange form = %s", form)
	}
	_, err = c.Exchange(ctx, "bad-code")
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.StatusCode != 400 || oe.Message != "invalid_grant; bad code" {
		t.Errorf("bad code: %v", err)
	}

	next, err := c.Refresh(ctx, tok.RefreshToken, "Location")
	if err != nil || next.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %+v %v", next, err)
	}
	if _, err := c.Refresh(ctx, tok.RefreshToken, "Location"); !errors.As(err, &oe) {
		t.Errorf("reused refresh token: %v", err)
	}

	c.UserType = "Company"
	agency, err := c.Exchange(ctx, "good-code")
	if err != nil || agency.Key() != (oauth.Key{UserType: "Company", ID: "comp1"}) {
		t.Fatalf("agency token: %+v %v", agency, err)
	}
	lt, err := c.LocationToken(ctx, agency.AccessToken, "comp1", "loc7")
	if err != nil || lt.LocationID != "loc7" || lt.CompanyID != "comp1" || lt.RefreshToken != "" || lt.Expiry.IsZero() {
		t.Fatalf("location token: %+v %v", lt, err)
	}
	il, err := c.InstalledLocations(ctx, agency.AccessToken, oauth.InstalledLocationsParams{CompanyID: "comp1", AppID: "app"})
	if err != nil || il.Count != 1 || il.Locations[0].ID != "loc1" {
		t.Fatalf("installed locations: %+v %v", il, err)
	}
}

// seed stores a Location token for loc1 that expired an hour ago, backed by
// a live refresh token of f.
func seed(t *testing.T, f *fakeGHL, store oauth.TokenStore) *oauth.Token {
	t.Helper()
	_, rt := f.issue("Location")
	tok := &oauth.Token{AccessToken: "expired-access", RefreshToken: rt, UserType: "Location", LocationID: "loc1", CompanyID: "comp1",
		Expiry: time.Now().Add(-time.Hour)}
	if err := store.Put(t.Context(), tok.Key(), tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenSourceRefreshesExpiredToken(t *testing.T) {
	f := newFakeGHL(t)
	store := oauth.NewMemoryStore()
	seed(t, f, store)
	src := oauth.NewTokenSource(config(f), store)
	ctx := t.Context()
	a1, err := src.Token(ctx, "Location", "loc1")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := src.Token(ctx, "Location", "loc1")
	if a1 != a2 || a1 == "expired-access" {
		t.Errorf("tokens %q, %q", a1, a2)
	}
	if r, _, _ := f.counts(); r != 1 {
		t.Errorf("refreshes = %d", r)
	}
	stored, _ := store.Get(ctx, oauth.Key{UserType: "Location", ID: "loc1"})
	if stored.AccessToken != a1 || stored.CompanyID != "comp1" {
		t.Errorf("stored %+v", stored)
	}
	// A 401 for a token someone already replaced: no refresh, the new one.
	got, err := src.Refresh(ctx, "Location", "loc1", "expired-access")
	if err != nil || got != a1 {
		t.Errorf("Refresh(stale) = %q, %v", got, err)
	}
	// A 401 for the current token: refresh.
	got, err = src.Refresh(ctx, "Location", "loc1", a1)
	if err != nil || got == a1 {
		t.Errorf("Refresh(current) = %q, %v", got, err)
	}
	if r, _, _ := f.counts(); r != 2 {
		t.Errorf("refreshes = %d", r)
	}
	if _, err := src.Token(ctx, "Location", ""); !errors.Is(err, oauth.ErrNoResource) {
		t.Errorf("no location: %v", err)
	}
	if _, err := src.Token(ctx, "Location", "unknown"); !errors.Is(err, oauth.ErrNoToken) {
		t.Errorf("unknown location: %v", err)
	}
}

func TestTokenSourceFailedRefreshIsNotRetried(t *testing.T) {
	f := newFakeGHL(t)
	store := oauth.NewMemoryStore()
	tok := seed(t, f, store)
	// The refresh token was used elsewhere: GHL rejects it.
	if _, err := config(f).Refresh(t.Context(), tok.RefreshToken, "Location"); err != nil {
		t.Fatal(err)
	}
	var hook []string
	src := oauth.NewTokenSource(config(f), store)
	src.OnRefreshError = func(loc string, err error) { hook = append(hook, loc+": "+err.Error()) }
	for i := range 3 {
		_, err := src.Token(t.Context(), "Location", "loc1")
		var re *oauth.RefreshError
		if !errors.As(err, &re) || re.Key.ID != "loc1" {
			t.Fatalf("call %d: err = %v", i, err)
		}
		if i > 0 && !errors.Is(err, oauth.ErrRefreshFailed) {
			t.Errorf("call %d: err = %v, want ErrRefreshFailed", i, err)
		}
	}
	if r, _, _ := f.counts(); r != 2 { // ours: 1 (plus the one that voided it)
		t.Errorf("token endpoint got %d refreshes, want 2", r)
	}
	if len(hook) != 1 || !strings.HasPrefix(hook[0], "loc1: ") {
		t.Errorf("hook calls = %q", hook)
	}
	stored, _ := store.Get(t.Context(), tok.Key())
	if stored.RefreshError == "" {
		t.Error("failure not recorded in the store")
	}
}

func TestTokenSourceRefreshNotSentIsRetryable(t *testing.T) {
	f := newFakeGHL(t)
	store := oauth.NewMemoryStore()
	seed(t, f, store)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	cfg := config(f)
	cfg.BaseURL = dead
	src := oauth.NewTokenSource(cfg, store)
	if _, err := src.Token(t.Context(), "Location", "loc1"); err == nil {
		t.Fatal("no error from an unreachable token endpoint")
	}
	// The refresh token never left: once GHL is reachable it still works.
	cfg.BaseURL = f.srv.URL
	if _, err := src.Token(t.Context(), "Location", "loc1"); err != nil {
		t.Fatalf("after reconnecting: %v", err)
	}
}

func TestTokenSourceRenewsMintedLocationToken(t *testing.T) {
	f := newFakeGHL(t)
	store := oauth.NewMemoryStore()
	ctx := t.Context()
	agencyAccess, agencyRefresh := f.issue("Company")
	store.Put(ctx, oauth.Key{UserType: "Company", ID: "comp1"}, &oauth.Token{AccessToken: agencyAccess, RefreshToken: agencyRefresh,
		UserType: "Company", CompanyID: "comp1", Expiry: time.Now().Add(time.Hour)})
	store.Put(ctx, oauth.Key{UserType: "Location", ID: "loc5"}, &oauth.Token{AccessToken: "old-minted", UserType: "Location",
		LocationID: "loc5", CompanyID: "comp1", Expiry: time.Now().Add(-time.Minute)})
	src := oauth.NewTokenSource(config(f), store)
	got, err := src.Token(ctx, "Location", "loc5")
	if err != nil || !strings.HasPrefix(got, "loc-access-") {
		t.Fatalf("Token = %q, %v", got, err)
	}
	if r, m, _ := f.counts(); r != 0 || m != 1 {
		t.Errorf("refreshes %d mints %d; want 0 and 1", r, m)
	}
}

// TestClientRefreshesOn401 runs a ghl.Client on the TokenSource: the first
// call finds the stored token rejected (revoked early) and recovers with
// exactly one refresh.
func TestClientRefreshesOn401(t *testing.T) {
	f := newFakeGHL(t)
	store := oauth.NewMemoryStore()
	_, rt := f.issue("Location")
	store.Put(t.Context(), oauth.Key{UserType: "Location", ID: "loc1"}, &oauth.Token{AccessToken: "revoked", RefreshToken: rt,
		UserType: "Location", LocationID: "loc1", Expiry: time.Now().Add(time.Hour)})
	c, err := ghl.NewClient(ghl.WithBaseURL(f.srv.URL), ghl.WithTokenSource(oauth.NewTokenSource(config(f), store)))
	if err != nil {
		t.Fatal(err)
	}
	ct, err := c.Contacts.Get(ghl.WithLocation(t.Context(), "loc1"), "c1")
	if err != nil || ct.ID != "c1" {
		t.Fatalf("Get = %+v, %v", ct, err)
	}
	if r, _, _ := f.counts(); r != 1 || f.apiCalls != 2 {
		t.Errorf("refreshes %d api calls %d; want 1 and 2", r, f.apiCalls)
	}
}

func TestCallbackHandler(t *testing.T) {
	f := newFakeGHL(t)
	ctx := t.Context()

	store := oauth.NewMemoryStore()
	app := &oauth.App{Config: config(f), Store: store}
	rec := httptest.NewRecorder()
	app.CallbackHandler(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/cb?code=good-code", nil))
	if rec.Code != 200 {
		t.Fatalf("location install: %d %s", rec.Code, rec.Body)
	}
	if tok, err := store.Get(ctx, oauth.Key{UserType: "Location", ID: "loc1"}); err != nil || tok.RefreshToken == "" {
		t.Errorf("stored location token: %+v %v", tok, err)
	}

	rec = httptest.NewRecorder()
	app.CallbackHandler(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/cb?code=bad-code", nil))
	if rec.Code != 400 {
		t.Errorf("bad code: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	app.CallbackHandler(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/cb?error=access_denied", nil))
	if rec.Code != 400 {
		t.Errorf("no code: %d", rec.Code)
	}

	// Agency install: the company token is stored and, with
	// MintLocationTokens, a token per approved location.
	cfg := config(f)
	cfg.UserType = "Company"
	store = oauth.NewMemoryStore()
	app = &oauth.App{Config: cfg, Store: store, MintLocationTokens: true}
	var got *oauth.Token
	app.CallbackHandler(func(w http.ResponseWriter, r *http.Request, tok *oauth.Token, err error) {
		if err != nil {
			t.Errorf("agency install: %v", err)
		}
		got = tok
	}).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/cb?code=good-code", nil))
	if got == nil || got.UserType != "Company" {
		t.Fatalf("agency token %+v", got)
	}
	for _, k := range []oauth.Key{{UserType: "Company", ID: "comp1"}, {UserType: "Location", ID: "loc1"}, {UserType: "Location", ID: "loc2"}} {
		if _, err := store.Get(ctx, k); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}

func TestInstallEvents(t *testing.T) {
	f := newFakeGHL(t)
	ctx := t.Context()
	store := oauth.NewMemoryStore()
	agencyAccess, agencyRefresh := f.issue("Company")
	store.Put(ctx, oauth.Key{UserType: "Company", ID: "comp1"}, &oauth.Token{AccessToken: agencyAccess, RefreshToken: agencyRefresh,
		UserType: "Company", CompanyID: "comp1", Expiry: time.Now().Add(time.Hour)})
	app := &oauth.App{Config: config(f), Store: store, AppID: "app1"}
	h := app.EventHandler()
	post := func(body string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/webhooks/install", strings.NewReader(body)))
		return rec.Code
	}

	if code := post(`{"type":"INSTALL","appId":"app1","companyId":"comp1","locationId":"loc9","userId":"u1"}`); code != 200 {
		t.Fatalf("INSTALL: %d", code)
	}
	tok, err := store.Get(ctx, oauth.Key{UserType: "Location", ID: "loc9"})
	if err != nil || tok.CompanyID != "comp1" || !strings.HasPrefix(tok.AccessToken, "loc-access-") {
		t.Fatalf("minted token: %+v %v", tok, err)
	}
	// The minted token works through a client.
	c, _ := ghl.NewClient(ghl.WithBaseURL(f.srv.URL), ghl.WithTokenSource(app.TokenSource()))
	if _, err := c.Contacts.Get(ghl.WithLocation(ctx, "loc9"), "c1"); err != nil {
		t.Errorf("call with minted token: %v", err)
	}

	// Another app's event and a location-level install without an agency
	// token change nothing.
	if code := post(`{"type":"INSTALL","appId":"other","companyId":"comp1","locationId":"locX"}`); code != 200 {
		t.Errorf("other app: %d", code)
	}
	if code := post(`{"type":"INSTALL","appId":"app1","companyId":"compZ","locationId":"locY"}`); code != 200 {
		t.Errorf("no agency token: %d", code)
	}
	if _, m, _ := f.counts(); m != 1 {
		t.Errorf("mints = %d, want 1", m)
	}

	if code := post(`{"type":"UNINSTALL","appId":"app1","locationId":"loc9"}`); code != 200 {
		t.Fatalf("UNINSTALL: %d", code)
	}
	if _, err := store.Get(ctx, oauth.Key{UserType: "Location", ID: "loc9"}); !errors.Is(err, oauth.ErrNoToken) {
		t.Errorf("after UNINSTALL: %v", err)
	}
	if _, err := c.Contacts.Get(ghl.WithLocation(ctx, "loc9"), "c1"); err == nil {
		t.Error("uninstalled location still served from the cache")
	}
	if code := post(`{"type":"UNINSTALL","appId":"app1","companyId":"comp1"}`); code != 200 {
		t.Fatalf("agency UNINSTALL: %d", code)
	}
	if _, err := store.Get(ctx, oauth.Key{UserType: "Company", ID: "comp1"}); !errors.Is(err, oauth.ErrNoToken) {
		t.Errorf("after agency UNINSTALL: %v", err)
	}
	if code := post(`not json`); code != 400 {
		t.Errorf("bad body: %d", code)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/webhooks/install", nil))
	if rec.Code != 405 {
		t.Errorf("GET: %d", rec.Code)
	}
}

// concurrentRefresh runs 50 goroutines against 3 clients, each with its
// own TokenSource and store handle as separate processes would have, on a
// token that has expired, and checks that GHL saw exactly one refresh and
// every call succeeded.
func concurrentRefresh(t *testing.T, newStore func(t *testing.T) oauth.TokenStore) {
	f := newFakeGHL(t)
	f.latency = 30 * time.Millisecond
	stores := []oauth.TokenStore{newStore(t), newStore(t), newStore(t)}
	seed(t, f, stores[0])
	var clients []*ghl.Client
	var hookCalls sync.Map
	for i, s := range stores {
		src := oauth.NewTokenSource(config(f), s)
		src.OnRefreshError = func(loc string, err error) { hookCalls.Store(i, err) }
		c, err := ghl.NewClient(ghl.WithBaseURL(f.srv.URL), ghl.WithTokenSource(src), ghl.WithRateLimiter(nil))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	start := make(chan struct{})
	for i := range 50 {
		wg.Go(func() {
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := clients[i%3].Contacts.Get(ghl.WithLocation(ctx, "loc1"), "c1")
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
			t.Log(err)
		}
	}
	if failed != 0 {
		t.Errorf("%d of 50 requests failed", failed)
	}
	if r, _, _ := f.counts(); r != 1 {
		t.Errorf("token endpoint got %d refresh calls, want exactly 1", r)
	}
	hookCalls.Range(func(k, v any) bool { t.Errorf("OnRefreshError called by client %v: %v", k, v); return true })
}

func TestConcurrentRefreshMemoryStore(t *testing.T) {
	store := oauth.NewMemoryStore()
	concurrentRefresh(t, func(*testing.T) oauth.TokenStore { return store })
}

func TestRefreshSurvivesCallerCancel(t *testing.T) {
	f := newFakeGHL(t)
	f.latency = 100 * time.Millisecond
	store := oauth.NewMemoryStore()
	seed(t, f, store)
	src := oauth.NewTokenSource(config(f), store)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := src.Token(ctx, "Location", "loc1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	// The refresh went on without the caller and its result was kept.
	deadline := time.Now().Add(5 * time.Second)
	for {
		tok, _ := store.Get(t.Context(), oauth.Key{UserType: "Location", ID: "loc1"})
		if tok.AccessToken != "expired-access" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("refresh abandoned with the caller")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := src.Token(t.Context(), "Location", "loc1"); err != nil {
		t.Fatal(err)
	}
	if r, _, _ := f.counts(); r != 1 {
		t.Errorf("refreshes = %d", r)
	}
}
