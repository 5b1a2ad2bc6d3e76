package redislimit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/redislimit"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
)

// fixture is a store with a location and a Private Integration Token.
type fixture struct {
	store      sandbox.Store
	locationID string
	token      string
	tokenID    string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "shared.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seed, err := sandbox.Seed(ctx, st, sandbox.SeedOptions{Contacts: 1})
	if err != nil {
		t.Fatal(err)
	}
	secret, tok, err := sandbox.CreatePrivateToken(ctx, st, sandbox.PITParams{LocationID: seed.LocationID})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{store: st, locationID: seed.LocationID, token: secret, tokenID: tok.ID}
}

// startServer runs a sandbox server on the fixture's store with lim.
func (f fixture) startServer(t *testing.T, lim sandbox.Limiter, reg *prometheus.Registry, log *slog.Logger) *httptest.Server {
	t.Helper()
	srv, err := sandbox.NewServer(sandbox.Config{Store: f.store, Limiter: lim, Registry: reg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Limiter() != lim {
		t.Errorf("Server.Limiter() is not Config.Limiter")
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs
}

func do(t *testing.T, method, url, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Version", "2021-07-28")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func wantHeaders(t *testing.T, res *http.Response, max, interval, daily, remaining, dailyRemaining int) {
	t.Helper()
	want := map[string]int{
		"X-RateLimit-Max": max, "X-RateLimit-Interval-Milliseconds": interval, "X-RateLimit-Limit-Daily": daily,
		"X-RateLimit-Remaining": remaining, "X-RateLimit-Daily-Remaining": dailyRemaining,
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != strconv.Itoa(v) {
			t.Errorf("%s = %q, want %d (status %d)", k, got, v, res.StatusCode)
		}
	}
}

// TestTwoServersShareBudget is the point of the package: two sandbox
// servers (two processes behind a load balancer) over one store, each with
// its own Limiter and Redis connection on the same Redis, spend one budget.
// The 6th request of a burst of 5, spread over both, is refused with 429
// and the headers; the admin API of either server sees the shared usage,
// and a reset through one restores the budget for both.
func TestTwoServersShareBudget(t *testing.T) {
	f := newFixture(t)
	clk := newClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	cfg := sandbox.RateLimitConfig{Enabled: true, Burst: 5, Interval: time.Second, Daily: 8}
	prefix := testPrefix()
	a := f.startServer(t, newLimiterPrefix(t, newRedis(t), cfg, clk.Now, prefix), nil, nil)
	b := f.startServer(t, newLimiterPrefix(t, newRedis(t), cfg, clk.Now, prefix), nil, nil)
	servers := []*httptest.Server{a, b}
	path := "/locations/" + f.locationID

	for i := range 5 {
		res := do(t, "GET", servers[i%2].URL+path, f.token)
		if res.StatusCode != 200 {
			t.Fatalf("request %d: %d", i+1, res.StatusCode)
		}
		wantHeaders(t, res, 5, 1000, 8, 4-i, 7-i)
	}
	for _, s := range servers {
		res := do(t, "GET", s.URL+path, f.token)
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("6th request: %d, want 429", res.StatusCode)
		}
		wantHeaders(t, res, 5, 1000, 8, 0, 3)
		if ra := res.Header.Get("Retry-After"); ra != "1" {
			t.Errorf("Retry-After %q, want 1", ra)
		}
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body["message"] != sandbox.MsgRateLimited {
			t.Errorf("429 body %v %v", body, err)
		}
	}
	for _, s := range servers {
		var u map[string]any
		res := do(t, "GET", s.URL+"/_ghlkit/ratelimit?tokenId="+f.tokenID, "")
		if err := json.NewDecoder(res.Body).Decode(&u); err != nil || u["used"] != float64(5) || u["dailyUsed"] != float64(5) || u["remaining"] != float64(0) {
			t.Errorf("usage through %s: %v %v", s.URL, u, err)
		}
	}

	// The burst comes back after the interval, for both.
	clk.Advance(time.Second)
	wantHeaders(t, do(t, "GET", b.URL+path, f.token), 5, 1000, 8, 4, 2)
	wantHeaders(t, do(t, "GET", a.URL+path, f.token), 5, 1000, 8, 3, 1)

	// A reset through one server restores the budget seen by the other.
	if res := do(t, "DELETE", a.URL+"/_ghlkit/ratelimit", ""); res.StatusCode != 200 {
		t.Fatalf("reset: %d", res.StatusCode)
	}
	wantHeaders(t, do(t, "GET", b.URL+path, f.token), 5, 1000, 8, 4, 7)
}

// counter reads a counter of reg by name and one label value.
func counter(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFailOpen: with Redis unreachable the sandbox keeps serving — every
// request let through with the Idle headers (the limits, nothing used) —
// counts each failure in ghlkit_sandbox_ratelimit_errors_total and warns
// once, not once per request. The admin API, which can say so, fails.
// It needs no Redis.
func TestFailOpen(t *testing.T) {
	f := newFixture(t)
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer dead.Close()
	cfg := sandbox.RateLimitConfig{Enabled: true, Burst: 2, Interval: time.Second, Daily: 3}
	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	s := f.startServer(t, redislimit.New(dead, cfg, redislimit.Options{Timeout: 200 * time.Millisecond}), reg,
		slog.New(slog.NewTextHandler(logs, nil)))
	for i := range 4 { // twice the burst, more than the daily cap
		res := do(t, "GET", s.URL+"/locations/"+f.locationID, f.token)
		if res.StatusCode != 200 {
			t.Fatalf("request %d with Redis down: %d, want 200 (fail open)", i+1, res.StatusCode)
		}
		wantHeaders(t, res, 2, 1000, 3, 2, 3)
	}
	if n := counter(t, reg, "ghlkit_sandbox_ratelimit_errors_total", "op", "take"); n != 4 {
		t.Errorf("take errors counted %v, want 4", n)
	}
	if n := strings.Count(logs.String(), "fail open"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, logs)
	}
	if res := do(t, "GET", s.URL+"/_ghlkit/ratelimit?tokenId="+f.tokenID, ""); res.StatusCode != 500 {
		t.Errorf("usage with Redis down: %d, want 500", res.StatusCode)
	}
	if res := do(t, "DELETE", s.URL+"/_ghlkit/ratelimit", ""); res.StatusCode != 500 {
		t.Errorf("reset with Redis down: %d, want 500", res.StatusCode)
	}
	if p, c := counter(t, reg, "ghlkit_sandbox_ratelimit_errors_total", "op", "peek"), counter(t, reg, "ghlkit_sandbox_ratelimit_errors_total", "op", "clear"); p != 1 || c != 1 {
		t.Errorf("peek/clear errors counted %v/%v, want 1/1", p, c)
	}
}
