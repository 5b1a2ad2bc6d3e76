package oauth_test

// Integration tests against the real sandbox (sandbox/sandboxtest): a
// Marketplace app is installed through the sandbox's consent page and the
// App's callback handler, and its tokens are then refreshed by several
// "processes" (TokenSources on their own database connections) at once.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/ghl"
	"github.com/ghlkit/ghlkit/ghl/oauth"
	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/sandboxtest"
)

// refreshOp is the metrics name of POST /oauth/token.
const refreshOp = "oauth/get-access-token"

// clock is the sandbox's clock, which a test moves forward to expire tokens
// without waiting.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// newSandbox starts a sandbox on clk, skipping the test while the sandbox
// does not serve OAuth yet.
func newSandbox(t *testing.T, clk *clock) *sandboxtest.Sandbox {
	t.Helper()
	sb := sandboxtest.New(t, sandboxtest.WithConfig(func(c *sandbox.Config) { c.Now = clk.Now }))
	if !sb.Server.Implemented("oauth", "get-access-token") {
		t.Skip("the sandbox does not serve POST /oauth/token yet")
	}
	return sb
}

// installed is a Marketplace app installed on the sandbox's location.
type installed struct {
	cfg *oauth.Config
	app *sandbox.App
	tok *oauth.Token // as stored by the callback
}

// install registers an app, sends the user through the consent page for
// the sandbox's first location, and lets oauth.App's callback handler
// exchange the code and store the tokens in store.
func install(t *testing.T, sb *sandboxtest.Sandbox, store oauth.TokenStore, scopes ...string) *installed {
	t.Helper()
	ctx := t.Context()
	var app *oauth.App
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app.CallbackHandler(nil).ServeHTTP(w, r)
	}))
	t.Cleanup(cb.Close)
	redirect := cb.URL + "/oauth/callback"
	sapp, secret, err := sandbox.CreateApp(ctx, sb.Store, sandbox.AppParams{Name: "Integration test app", RedirectURIs: []string{redirect},
		Scopes: scopes, CompanyID: sb.CompanyID})
	if err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	cfg := &oauth.Config{ClientID: sapp.ClientID, ClientSecret: secret, RedirectURL: redirect, Scopes: scopes,
		AuthURL: sb.URL + "/oauth/chooselocation", BaseURL: sb.URL, HTTPClient: sb.HTTP.Client()}
	app = &oauth.App{Config: cfg, Store: store}

	state := randomHex(8)
	back := sb.Consent(t, cfg.AuthCodeURL(state), sb.LocationID)
	if got := back.Scheme + "://" + back.Host + back.Path; got != redirect {
		t.Fatalf("consent redirected to %s, want %s", back, redirect)
	}
	sandboxtest.Code(t, back, state)
	resp, err := cb.Client().Get(back.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("callback: %d %s", resp.StatusCode, body)
	}
	tok, err := store.Get(ctx, oauth.Key{UserType: oauth.UserTypeLocation, ID: sb.LocationID})
	if err != nil {
		t.Fatalf("token after install: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.LocationID != sb.LocationID || tok.Expiry.IsZero() {
		t.Fatalf("stored token: %+v", tok)
	}
	return &installed{cfg: cfg, app: sapp, tok: tok}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestIntegrationInstallAndRefresh walks one install through exchange,
// refresh and rotation against the sandbox.
func TestIntegrationInstallAndRefresh(t *testing.T) {
	clk := new(clock)
	sb := newSandbox(t, clk)
	ctx := t.Context()
	store := oauth.NewMemoryStore()
	in := install(t, sb, store, "contacts.readonly", "contacts.write", "locations.readonly")

	// The token works, for its location only and within its scopes.
	sdk := sb.NewClient(t, ghl.WithTokenSource(oauth.NewTokenSource(in.cfg, store)), ghl.WithDefaultLocation(sb.LocationID))
	c, err := sdk.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: sb.LocationID, Email: "oauth@example.com"})
	if err != nil {
		t.Fatalf("Create with the installed token: %v", err)
	}
	if _, err := sdk.Contacts.Get(ctx, c.ID); err != nil {
		t.Fatalf("Get with the installed token: %v", err)
	}
	// No token is stored for the other location: the token source says so
	// without a request.
	if _, err := sdk.Locations.Get(ctx, sb.OtherLocationID); !errors.Is(err, oauth.ErrNoToken) {
		t.Fatalf("another location: %v, want ErrNoToken", err)
	}
	// The location's token does not reach the other location's contacts.
	other := sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.LocationToken(t, sb.OtherLocationID)))
	theirs, err := other.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: sb.OtherLocationID, Email: "theirs@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.Contacts.Get(ctx, theirs.ID); !errors.Is(err, ghl.ErrForbidden) {
		t.Fatalf("another location's contact: %v, want ErrForbidden", err)
	}

	// Refresh rotates both tokens; the old refresh token is void.
	if cur := current(t, store, oauth.Key{UserType: oauth.UserTypeLocation, ID: sb.LocationID}); cur.RefreshToken != in.tok.RefreshToken {
		t.Fatalf("the token source refreshed a valid token")
	}
	fresh, err := in.cfg.Refresh(ctx, in.tok.RefreshToken, oauth.UserTypeLocation)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if fresh.AccessToken == in.tok.AccessToken || fresh.RefreshToken == "" || fresh.RefreshToken == in.tok.RefreshToken || fresh.LocationID != sb.LocationID {
		t.Fatalf("Refresh answer: %+v", fresh)
	}
	_, err = in.cfg.Refresh(ctx, in.tok.RefreshToken, oauth.UserTypeLocation)
	var oe *oauth.Error
	if !errors.As(err, &oe) || (oe.StatusCode != http.StatusBadRequest && oe.StatusCode != http.StatusUnauthorized) {
		t.Fatalf("reusing a refresh token: %v, want a 400/401 *oauth.Error", err)
	}
	// A wrong client secret is refused.
	bad := *in.cfg
	bad.ClientSecret = "wrong"
	if _, err := bad.Refresh(ctx, fresh.RefreshToken, oauth.UserTypeLocation); !errors.As(err, &oe) {
		t.Fatalf("refresh with a wrong client secret: %v", err)
	}
	// An authorization code is single-use too.
	state := randomHex(4)
	code := sandboxtest.Code(t, sb.Consent(t, in.cfg.AuthCodeURL(state), sb.LocationID), state)
	if _, err := in.cfg.Exchange(ctx, code); err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if _, err := in.cfg.Exchange(ctx, code); !errors.As(err, &oe) {
		t.Fatalf("reusing an authorization code: %v, want an *oauth.Error", err)
	}
}

// TestIntegrationScopeErrorDoesNotRefresh: GHL answers 401 both for a
// token that is expired or revoked ("Invalid JWT") and for a valid token
// that lacks the operation's scope ("The token is not authorized for this
// scope."). Refreshing cannot cure the second, yet it spends a refresh and
// rotates the tokens on every such call; the retry fails the same way.
func TestIntegrationScopeErrorDoesNotRefresh(t *testing.T) {
	clk := new(clock)
	sb := newSandbox(t, clk)
	ctx := t.Context()
	store := oauth.NewMemoryStore()
	in := install(t, sb, store, "contacts.readonly", "locations.readonly")
	sdk := sb.NewClient(t, ghl.WithTokenSource(oauth.NewTokenSource(in.cfg, store)), ghl.WithDefaultLocation(sb.LocationID))
	before := sb.Requests(t, refreshOp)
	for range 3 {
		_, err := sdk.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: sb.LocationID, Email: "scope@example.com"})
		if !errors.Is(err, ghl.ErrUnauthorized) {
			t.Fatalf("a call outside the app's scopes: %v, want ErrUnauthorized", err)
		}
	}
	after := sb.Requests(t, refreshOp)
	if n := after[http.StatusOK] - before[http.StatusOK]; n != 0 {
		t.Errorf("3 calls denied for scope made %d token refreshes, want 0", n)
	}
	if cur := current(t, store, oauth.Key{UserType: oauth.UserTypeLocation, ID: sb.LocationID}); cur.RefreshToken != in.tok.RefreshToken {
		t.Errorf("a scope error rotated the stored tokens")
	}
}

// TestIntegrationConcurrentRefreshSQLite: 50 goroutines over 3 clients, each
// client with its own TokenSource and database connection as 3 processes
// would have, share one SQLite token store; the access token expires; the
// sandbox sees exactly one refresh and every request succeeds.
func TestIntegrationConcurrentRefreshSQLite(t *testing.T) {
	concurrentRefreshAgainstSandbox(t, sqliteStores(t))
}

// TestIntegrationConcurrentRefreshPostgres is the same on PostgreSQL
// (GHLKIT_TEST_POSTGRES_URL).
func TestIntegrationConcurrentRefreshPostgres(t *testing.T) {
	concurrentRefreshAgainstSandbox(t, postgresStores(t))
}

func concurrentRefreshAgainstSandbox(t *testing.T, newStore func(t *testing.T) oauth.TokenStore) {
	clk := new(clock)
	sb := newSandbox(t, clk)
	stores := []oauth.TokenStore{newStore(t), newStore(t), newStore(t)}
	in := install(t, sb, stores[0], "contacts.readonly", "contacts.write", "locations.readonly")
	key := oauth.Key{UserType: oauth.UserTypeLocation, ID: sb.LocationID}

	// Known expired: both the sandbox's clock and the stored expiry have
	// passed, so the token sources refresh before sending.
	t.Run("Expired", func(t *testing.T) {
		old := current(t, stores[0], key)
		clk.Advance(25 * time.Hour)
		expire(t, stores[0], key)
		hammer(t, sb, in, stores, old)
	})
	// Rejected: the stored expiry still says valid (clock skew, a revoked
	// token), so every client learns it from the sandbox's 401 and refreshes
	// once between them.
	t.Run("Rejected", func(t *testing.T) {
		old := current(t, stores[0], key)
		clk.Advance(25 * time.Hour)
		hammer(t, sb, in, stores, old)
	})
}

func current(t *testing.T, s oauth.TokenStore, key oauth.Key) *oauth.Token {
	t.Helper()
	tok, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// expire marks the stored access token expired.
func expire(t *testing.T, s oauth.TokenStore, key oauth.Key) {
	t.Helper()
	_, err := s.Update(t.Context(), key, func(cur *oauth.Token) (*oauth.Token, error) {
		next := *cur
		next.Expiry = time.Now().Add(-time.Second)
		return &next, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// hammer sends 50 concurrent requests through 3 clients, one per store,
// and checks that exactly one refresh reached the sandbox, that no request
// failed, and that the refresh token old held was rotated away.
func hammer(t *testing.T, sb *sandboxtest.Sandbox, in *installed, stores []oauth.TokenStore, old *oauth.Token) {
	ctx := t.Context()
	key := oauth.Key{UserType: oauth.UserTypeLocation, ID: sb.LocationID}
	clients := make([]*ghl.Client, len(stores))
	var refreshErrors atomic.Int64
	for i, s := range stores {
		ts := oauth.NewTokenSource(in.cfg, s)
		ts.OnRefreshError = func(string, error) { refreshErrors.Add(1) }
		clients[i] = sb.NewClient(t, ghl.WithTokenSource(ts), ghl.WithDefaultLocation(sb.LocationID),
			ghl.WithRetryPolicy(ghl.RetryPolicy{MaxAttempts: 1})) // a failure must show, not be retried away
	}
	before := sb.Requests(t, refreshOp)

	start := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Int64
	var firstErr atomic.Value
	for g := range 50 {
		wg.Go(func() {
			<-start
			c := clients[g%len(clients)]
			var err error
			if g%2 == 0 {
				_, err = c.Locations.Get(ctx, sb.LocationID)
			} else {
				_, _, err = c.Contacts.Search(ctx, ghl.SearchContactsParams{LocationID: sb.LocationID, PageLimit: 1})
			}
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
		})
	}
	close(start)
	wg.Wait()

	after := sb.Requests(t, refreshOp)
	refreshes := 0
	for code, n := range after {
		refreshes += n - before[code]
	}
	if refreshes != 1 || after[http.StatusOK]-before[http.StatusOK] != 1 {
		t.Errorf("the sandbox answered %d refresh requests (%v → %v), want exactly 1, answered 200", refreshes, before, after)
	}
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of 50 requests failed; first: %v", n, firstErr.Load())
	}
	if n := refreshErrors.Load(); n != 0 {
		t.Errorf("%d refresh errors reported", n)
	}
	// Every process sees the rotated token.
	for i, s := range stores {
		got := current(t, s, key)
		if got.AccessToken == old.AccessToken || got.RefreshToken == old.RefreshToken || got.RefreshError != "" {
			t.Fatalf("store %d still holds the old token (or a failed one): %+v", i, got)
		}
	}
	// The old refresh token was used up.
	_, err := in.cfg.Refresh(ctx, old.RefreshToken, oauth.UserTypeLocation)
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		t.Fatalf("the old refresh token after rotation: %v, want it refused", err)
	}
	// And the new one works (its use does not count above).
	cur := current(t, stores[0], key)
	if _, err := clients[0].Locations.Get(context.WithoutCancel(ctx), sb.LocationID); err != nil {
		t.Fatalf("a request with the rotated token: %v (token %+v)", err, cur)
	}
}
