// Package sandboxtest starts a real ghlkit sandbox for the tests of other
// packages — the SDK, the bridge, users' own integrations — the way
// stripe-go's tests run against stripe-mock. It is the one place where the
// sandbox and the SDK meet.
//
//	sb := sandboxtest.New(t)
//	c, err := sb.Client.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: sb.LocationID, …})
//
// Beyond the running server it offers what such tests need to look at
// from outside: the requests the server answered per operation and status
// (Requests, from its metrics), the consent page played as a user would
// (Consent, Code) for OAuth installs, and service URLs (PostgresURL,
// RedisURL) that skip a test, or fail it in CI, when a service is missing.
package sandboxtest

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ghlkit/ghlkit/ghl"
	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/postgres"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
)

// Sandbox is a running sandbox with one agency (company) and two locations.
type Sandbox struct {
	// URL is the base URL to point clients at.
	URL    string
	Server *sandbox.Server
	Store  sandbox.Store
	HTTP   *httptest.Server
	// Registry holds the server's Prometheus metrics; see Requests.
	Registry *prometheus.Registry

	CompanyID  string
	LocationID string // the first location
	// OtherLocationID is a second location of the same company.
	OtherLocationID string
	// Token is a Private Integration Token for LocationID with every scope.
	Token string
	// AgencyToken is an agency Private Integration Token with every scope.
	AgencyToken string
	// Client is an SDK client for LocationID using Token, with retries and
	// the client-side limiter on.
	Client *ghl.Client
}

type options struct {
	cfg      func(*sandbox.Config)
	postgres string
}

// Option configures New.
type Option func(*options)

// WithConfig adjusts the sandbox configuration (rate limits, token TTL,
// clock) before the server starts. Several WithConfig and WithRateLimit
// options apply in order.
func WithConfig(f func(*sandbox.Config)) Option {
	return func(o *options) {
		prev := o.cfg
		o.cfg = func(c *sandbox.Config) {
			if prev != nil {
				prev(c)
			}
			f(c)
		}
	}
}

// WithRateLimit turns the sandbox's rate limiter on with GHL's limits, or
// the given ones when non-zero.
func WithRateLimit(burst int, interval time.Duration, daily int) Option {
	return func(o *options) {
		prev := o.cfg
		o.cfg = func(c *sandbox.Config) {
			if prev != nil {
				prev(c)
			}
			c.RateLimit = sandbox.RateLimitConfig{Enabled: true, Burst: burst, Interval: interval, Daily: daily}
		}
	}
}

// WithPostgres runs the sandbox on a Postgres database instead of a
// temporary SQLite file, in a schema of its own that is dropped at cleanup,
// so that tests sharing the database do not see each other's data.
//
// Setting GHLKIT_SANDBOXTEST_STORE=postgres makes every New use
// GHLKIT_TEST_POSTGRES_URL this way, so that a whole suite written
// against the sandbox also runs on the Postgres store.
func WithPostgres(url string) Option { return func(o *options) { o.postgres = url } }

// openPostgres creates a schema for the test on the database at base and
// opens the store in it.
func openPostgres(t testing.TB, base string) (sandbox.Store, error) {
	t.Helper()
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		return nil, err
	}
	admin := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { admin.Close() })
	schema := "sandboxtest_" + strings.ToLower(sandbox.NewID())
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		return nil, err
	}
	// Registered before the store's Close, so it runs after it.
	t.Cleanup(func() { admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return postgres.Open(t.Context(), u.String())
}

// New starts a sandbox for the test and stops it at cleanup.
func New(t testing.TB, opts ...Option) *Sandbox {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	ctx := context.Background()
	if o.postgres == "" && os.Getenv("GHLKIT_SANDBOXTEST_STORE") == "postgres" {
		o.postgres = PostgresURL(t)
	}
	var st sandbox.Store
	var err error
	if o.postgres != "" {
		st, err = openPostgres(t, o.postgres)
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "sandbox.db"))
	}
	if err != nil {
		t.Fatalf("sandboxtest: open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := sandbox.Config{Store: st}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	srv, err := sandbox.NewServer(cfg)
	if err != nil {
		t.Fatalf("sandboxtest: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	sb := &Sandbox{URL: hs.URL, Server: srv, Store: st, HTTP: hs, Registry: cfg.Registry,
		CompanyID: sandbox.NewID(), LocationID: sandbox.NewID(), OtherLocationID: sandbox.NewID()}
	err = st.Write(ctx, func(tx sandbox.Tx) error {
		if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindCompany, ID: sb.CompanyID, CompanyID: sb.CompanyID},
			&sandbox.Company{ID: sb.CompanyID, Name: "Test Agency", Email: "agency@example.com"}); err != nil {
			return err
		}
		for i, id := range []string{sb.LocationID, sb.OtherLocationID} {
			loc := &sandbox.Location{ID: id, CompanyID: sb.CompanyID, Name: []string{"Test Location", "Other Location"}[i], Timezone: "America/New_York", Country: "US"}
			if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindLocation, ID: id, LocationID: id, CompanyID: sb.CompanyID}, loc); err != nil {
				return err
			}
		}
		var err error
		sb.Token, err = sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: sandbox.TokenPIT, Name: "sandboxtest", UserType: sandbox.UserTypeLocation,
			CompanyID: sb.CompanyID, LocationID: sb.LocationID, Scopes: sandbox.AllScopes()}, time.Now())
		if err != nil {
			return err
		}
		sb.AgencyToken, err = sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: sandbox.TokenPIT, Name: "sandboxtest agency", UserType: sandbox.UserTypeCompany,
			CompanyID: sb.CompanyID, Scopes: sandbox.AllScopes()}, time.Now())
		return err
	})
	if err != nil {
		t.Fatalf("sandboxtest: seed: %v", err)
	}
	sb.Client = sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.Token), ghl.WithDefaultLocation(sb.LocationID))
	return sb
}

// NewClient returns an SDK client pointed at the sandbox; opts come after
// the base URL, so they may override anything.
func (sb *Sandbox) NewClient(t testing.TB, opts ...ghl.Option) *ghl.Client {
	t.Helper()
	c, err := ghl.NewClient(append([]ghl.Option{ghl.WithBaseURL(sb.URL), ghl.WithHTTPClient(sb.HTTP.Client())}, opts...)...)
	if err != nil {
		t.Fatalf("sandboxtest: client: %v", err)
	}
	return c
}

// LocationToken mints a Private Integration Token for a location with the
// given scopes (every scope when none are given).
func (sb *Sandbox) LocationToken(t testing.TB, locationID string, scopes ...string) string {
	t.Helper()
	if len(scopes) == 0 {
		scopes = sandbox.AllScopes()
	}
	var tok string
	err := sb.Store.Write(context.Background(), func(tx sandbox.Tx) error {
		var err error
		tok, err = sandbox.IssueToken(context.Background(), tx, &sandbox.Token{Type: sandbox.TokenPIT, UserType: sandbox.UserTypeLocation,
			CompanyID: sb.CompanyID, LocationID: locationID, Scopes: scopes}, time.Now())
		return err
	})
	if err != nil {
		t.Fatalf("sandboxtest: token: %v", err)
	}
	return tok
}

// Requests returns how many API requests the sandbox has answered for an
// operation ("namespace/operationId" as its metrics name it, e.g.
// "contacts/upsert-contact" or "oauth/get-access-token"; "" for every
// operation), by status code. Tests count what reached the server with it:
// refresh calls, 429s.
func (sb *Sandbox) Requests(t testing.TB, operation string) map[int]int {
	t.Helper()
	families, err := sb.Registry.Gather()
	if err != nil {
		t.Fatalf("sandboxtest: metrics: %v", err)
	}
	out := map[int]int{}
	for _, f := range families {
		if f.GetName() != "ghlkit_sandbox_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var op string
			code := -1
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "operation":
					op = l.GetValue()
				case "code":
					code, _ = strconv.Atoi(l.GetValue())
				}
			}
			if operation == "" || op == operation {
				out[code] += int(m.GetCounter().GetValue())
			}
		}
	}
	return out
}

// PostgresURL returns GHLKIT_TEST_POSTGRES_URL, skipping the test when it
// is unset — or failing it when GHLKIT_REQUIRE_SERVICES=1, so CI never
// passes by skipping.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return serviceURL(t, "GHLKIT_TEST_POSTGRES_URL")
}

// RedisURL is PostgresURL for GHLKIT_TEST_REDIS_URL.
func RedisURL(t testing.TB) string {
	t.Helper()
	return serviceURL(t, "GHLKIT_TEST_REDIS_URL")
}

func serviceURL(t testing.TB, env string) string {
	t.Helper()
	u := os.Getenv(env)
	if u == "" {
		if os.Getenv("GHLKIT_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is not set but GHLKIT_REQUIRE_SERVICES=1", env)
		}
		t.Skipf("%s not set", env)
	}
	return u
}
